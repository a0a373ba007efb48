"""Async benchmark: what an await costs, against nginx on loopback (issue 13, item 4).

    python bench/async_bench.py [--rounds 7] [--seq 2000] [--concurrent 1000] [--repeat 5]
                                [--wrk-seconds 3] [--out PREFIX]
    (or: bash bench/run.sh async [...])

Two ways to run an await are measured side by side, each in a fresh subprocess per round, in an order
rotated each round:

  loop     the default since issue 13: the running event loop drives libcurl (evloop.c: libcurl's sockets
           and timer in a private epoll set, which the loop watches as one reader), no thread of ours
  thread   the earlier hand-off: the client's I/O thread runs the call, takes the GIL and hands the result
           to the loop with call_soon_threadsafe (Client._async_via_io_thread = True)
  loop-uv  `loop` under uvloop

Sequential: --seq awaits of get_company_access_token_async one after another on one kept-alive
connection, against the same number of blocking get_company_access_token calls (`blocking`, the
reference); CPU per call is the process's (every thread's) user + system time. Target: an await costs at
most 1.5x a blocking call's CPU (the median of per-round ratios, both from the same round).

Concurrent: --concurrent awaits started at once with asyncio.gather on one client, --repeat times; at most
codat_platform_c.DEFAULT_CONCURRENCY (100) are in flight per loop, so wrk runs with that many
connections in the same round. Target: at least 50 % of wrk's rate (median of per-round ratios). For
scale, the same round also runs the C batch (get_access_tokens over as many ids at the same concurrency,
threads=None and threads=1): the engine without a task, a future and a Python call per token.

Prints a Markdown table (progress on stderr) and writes PREFIX.md and PREFIX.json (default
bench/async_results; --out "" writes nothing). Needs nginx with the echo module (bench/server.py) and,
for the wrk row, wrk.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from batch_bench import run_json_worker  # noqa: E402  (one way to run a measurement in a fresh process)

AUTH = "Basic QVBJX0tFWQ=="
MODES = ("blocking", "loop", "thread", "loop-uv")
BATCH_REFS = ("batch", "batch-1")  # concurrent rows only: get_access_tokens, threads=None (2) and 1


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def cpu_s():
    import resource
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


# --------------------------------------------------------------------------- workers (subprocesses)

def _client(url, mode):
    import codat_platform_c as codat
    c = codat.Client(auth_header=AUTH, server_url=url, retries=None)
    if mode == "thread":
        c._async_via_io_thread = True
    return c


def _run(mode, coro):
    if mode == "loop-uv":
        import uvloop
        return uvloop.run(coro)
    import asyncio
    return asyncio.run(coro)


def work_sequential(url, mode, n, token):
    with _client(url, mode) as c:
        if mode == "blocking":
            fetch = c.get_company_access_token
            for i in range(200):
                fetch(f"warm-{i}")
            t0, c0 = time.perf_counter(), cpu_s()
            for i in range(n):
                if fetch(f"company-{i}")["accessToken"] != token:
                    raise RuntimeError("bad answer")
            return time.perf_counter() - t0, cpu_s() - c0

        async def main():
            fetch = c.get_company_access_token_async
            for i in range(200):
                await fetch(f"warm-{i}")
            t0, c0 = time.perf_counter(), cpu_s()
            for i in range(n):
                if (await fetch(f"company-{i}"))["accessToken"] != token:
                    raise RuntimeError("bad answer")
            return time.perf_counter() - t0, cpu_s() - c0
        return _run(mode, main())


def work_concurrent(url, mode, n, repeat, token):
    import asyncio
    if mode in BATCH_REFS:
        return batch_concurrent(url, mode, n, repeat, token)
    with _client(url, mode) as c:
        async def main():
            fetch = c.get_company_access_token_async
            await asyncio.gather(*[fetch(f"warm-{i}") for i in range(n)])  # opens the connections
            t0, c0 = time.perf_counter(), cpu_s()
            for r in range(repeat):
                got = await asyncio.gather(*[fetch(f"company-{r}-{i}") for i in range(n)])
                if any(g["accessToken"] != token for g in got):
                    raise RuntimeError("bad answer")
            return time.perf_counter() - t0, cpu_s() - c0
        return _run(mode, main())


def batch_concurrent(url, mode, n, repeat, token):
    """The reference with no Python per token: the C batch over the same ids at the same concurrency."""
    import codat_platform_c as codat
    threads = 1 if mode == "batch-1" else None
    with _client(url, mode) as c:
        c.get_access_tokens([f"warm-{i}" for i in range(n)], concurrency=codat.DEFAULT_CONCURRENCY,
                            threads=threads)  # opens the connections
        t0, c0 = time.perf_counter(), cpu_s()
        for r in range(repeat):
            got = c.get_access_tokens([f"company-{r}-{i}" for i in range(n)],
                                      concurrency=codat.DEFAULT_CONCURRENCY, threads=threads)
            if any(g["accessToken"] != token for g in got.values()):
                raise RuntimeError("bad answer")
        return time.perf_counter() - t0, cpu_s() - c0


def worker_main(a):
    try:
        if a.worker == "seq":
            wall, cpu = work_sequential(a.url, a.mode, a.n, a.token)
            calls = a.n
        else:
            wall, cpu = work_concurrent(a.url, a.mode, a.n, a.repeat, a.token)
            calls = a.n * a.repeat
        print(json.dumps({"ok": True, "wall_us": wall / calls * 1e6, "cpu_us": cpu / calls * 1e6,
                          "tokens_per_s": calls / wall}))
    except ImportError as exc:
        print(json.dumps({"ok": False, "skip": f"not installed: {exc.name or exc}"}))
    except Exception as exc:
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}))
    return 0


# --------------------------------------------------------------------------- the parent

def run_worker(kind, mode, url, a, token):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", kind, "--mode", mode, "--url", url,
           "--n", str(a.seq if kind == "seq" else a.concurrent), "--repeat", str(a.repeat), "--token", token]
    return run_json_worker(cmd, 300)


def med(rows, key):
    vals = [r[key] for r in rows if r.get("ok")]
    return statistics.median(vals) if vals else None


def paired(rows, base, key):
    vals = [r[key] / b[key] for r, b in zip(rows, base) if r.get("ok") and b.get("ok")]
    return statistics.median(vals) if vals else None


def fmt(x, spec):
    return format(x, spec) if x is not None else "—"


def report(seq, conc, wrk, a, machine):
    lines = [f"# Async benchmark ({a.rounds} rounds; medians)", "", machine, "",
             f"## Sequential: {a.seq} calls one after another, nginx HTTP keep-alive", "",
             "| way | CPU µs/call | wall µs/call | CPU vs blocking (paired) | wall vs blocking (paired) |",
             "|---|---:|---:|---:|---:|"]
    for mode in MODES:
        rows = seq[mode]
        lines.append(f"| {mode} | {fmt(med(rows, 'cpu_us'), '.1f')} | {fmt(med(rows, 'wall_us'), '.1f')} | "
                     f"{fmt(paired(rows, seq['blocking'], 'cpu_us'), '.2f')}× | "
                     f"{fmt(paired(rows, seq['blocking'], 'wall_us'), '.2f')}× |")
    lines += ["", f"## Concurrent: {a.concurrent} awaits at once (asyncio.gather) x {a.repeat}, one client; "
              f"wrk -c{a.wrk_connections}", "",
              "| way | tokens/s | CPU µs/call | vs wrk (paired) |", "|---|---:|---:|---:|"]
    wrk_rate = med(wrk, "tokens_per_s")
    names = {"batch": "C batch, no Python per token (threads=None: 2)", "batch-1": "C batch, threads=1"}
    for mode in MODES[1:] + BATCH_REFS:
        rows = conc[mode]
        lines.append(f"| {names.get(mode, mode)} | {fmt(med(rows, 'tokens_per_s'), ',.0f')} | "
                     f"{fmt(med(rows, 'cpu_us'), '.1f')} | {fmt(paired(rows, wrk, 'tokens_per_s'), '.0%')} |")
    lines.append(f"| wrk | {fmt(wrk_rate, ',.0f')} | | 100% |")
    seq_ratio = paired(seq["loop"], seq["blocking"], "cpu_us")
    conc_ratio = paired(conc["loop"], wrk, "tokens_per_s")
    lines += ["", "Targets (the default way, `loop`):",
              f"- sequential await CPU ≤ 1.5× a blocking call's: {fmt(seq_ratio, '.2f')}× "
              f"({'met' if seq_ratio is not None and seq_ratio <= 1.5 else 'NOT met'})",
              f"- {a.concurrent} concurrent awaits ≥ 50 % of wrk's rate: {fmt(conc_ratio, '.0%')} "
              f"({'met' if conc_ratio is not None and conc_ratio >= 0.5 else 'NOT met'})"]
    return "\n".join(lines) + "\n"


def parent_main(a):
    from batch_bench import machine_line, run_wrk
    from server import TOKEN, NginxServer
    seq = {m: [] for m in MODES}
    conc = {m: [] for m in MODES[1:] + BATCH_REFS}
    wrk = []
    with NginxServer() as srv:
        url = srv.urls["http"]
        for r in range(a.rounds):
            order = list(MODES[r % len(MODES):] + MODES[:r % len(MODES)])
            for mode in order:
                seq[mode].append(run_worker("seq", mode, url, a, TOKEN))
            for mode in [m for m in order if m != "blocking"] + list(BATCH_REFS):
                conc[mode].append(run_worker("conc", mode, url, a, TOKEN))
                if mode == "loop":  # right after it, so that the ratio pairs two moments of the same round
                    wrk.append(run_wrk(url, a.wrk_connections, a.wrk_seconds))
            log(f"[async] round {r + 1}/{a.rounds}: " + ", ".join(
                f"{m} {seq[m][-1].get('cpu_us', float('nan')):.1f} µs" for m in MODES))
        machine = machine_line()
    text = report(seq, conc, wrk, a, machine)
    print(text)
    if a.out:
        with open(a.out + ".md", "w") as f:
            f.write(text)
        with open(a.out + ".json", "w") as f:
            json.dump({"args": vars(a), "sequential": seq, "concurrent": conc, "wrk": wrk}, f, indent=1)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--seq", type=int, default=2000)
    p.add_argument("--concurrent", type=int, default=1000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--wrk-seconds", type=int, default=3)
    p.add_argument("--wrk-connections", type=int, default=100, help="DEFAULT_CONCURRENCY: a loop's in-flight limit")
    p.add_argument("--out", default=os.path.join(HERE, "async_results"))
    p.add_argument("--worker", choices=("seq", "conc"))
    p.add_argument("--mode", choices=MODES + BATCH_REFS)
    p.add_argument("--url")
    p.add_argument("--n", type=int)
    p.add_argument("--token")
    a = p.parse_args()
    return worker_main(a) if a.worker else parent_main(a)


if __name__ == "__main__":
    sys.exit(main())
