"""Batch benchmark: thousands of tokens in one call, against nginx on loopback.

    python bench/batch_bench.py [--sizes 1000,10000] [--concurrency 16] [--rounds 7] [--wrk-seconds 3]
                                [--out PREFIX]

Contenders, each measured in a fresh subprocess (so imports, pools and allocator state are its own),
all at the same number of connections (--concurrency, default 16):

  ours        codat_platform_c.Client().get_access_tokens(ids, concurrency=16): one call; threads=None
              lets the extension spread the connections over up to 4 threads (2 on a 2-CPU machine)
  ours-1t     the same call with threads=1: one thread, one multi handle
  ours-async  asyncio.gather of client.get_access_token_async(id) under a Semaphore(16) (for reference)
  sdk         the official SDK (codat-platform from PyPI): asyncio.gather of
              CodatPlatform(...).connection_management.get_async(request={"company_id": id}) under a
              Semaphore(16), on the SDK's own async HTTP client (httpx.AsyncClient)
  wrk         wrk -c16 -t2 -d3s on the token path: the server's ceiling at that connection count, run
              right after `ours` for each size, so that each round gives a paired ratio

Every company id is distinct and every answer is checked (HTTP 200, the expected token). Before the
timed part each contender makes max(2 x concurrency, 512) calls the same way, so that its connections
(all of its threads' connections) are open. Rates are medians over rounds; "ours / wrk" is the median
of the per-round ratios (both from the same moment, so the drift of a shared machine cancels out), and
"ours / SDK" likewise. Contenders take turns inside each round, in an order rotated each round. Prints
a Markdown table on stdout (progress on stderr) and writes it to PREFIX.md, with every figure and the raw
per-round results in PREFIX.json (default PREFIX: bench/batch_results; --out "" writes nothing). Targets: ours >= 50 % of wrk's rate, >= 10 x the SDK.

Needs nginx with the echo module (bench/server.py starts it), wrk (apt-get install -y wrk) and, for the
SDK row, codat-platform in this interpreter (pip install codat-platform); rows that cannot run say so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep bench/ free of __pycache__
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

AUTH = "Basic QVBJX0tFWQ=="
PATH = "/companies/%s/connectionManagement/accessToken"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def ids_for(n, prefix="company"):
    return [f"{prefix}-{i:06d}" for i in range(n)]


def cpu_s():
    import resource
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


# --------------------------------------------------------------------------- workers (subprocesses)


def warm_count(conc):
    return max(2 * conc, 512)


def work_ours(url, n, conc, token, threads=None):
    import codat_platform_c as codat
    with codat.Client(auth_header=AUTH, server_url=url, retries=None) as c:
        c.get_access_tokens(ids_for(warm_count(conc), "warm"), concurrency=conc, threads=threads)
        ids = ids_for(n)
        t0, c0 = time.perf_counter(), cpu_s()
        out = c.get_access_tokens(ids, concurrency=conc, threads=threads)
        t1, c1 = time.perf_counter(), cpu_s()
    bad = [k for k, v in out.items() if not isinstance(v, dict) or v.get("accessToken") != token]
    if len(out) != n or bad:
        raise RuntimeError(f"{len(bad)} bad answers, e.g. {out.get(bad[0]) if bad else None!r}")
    return t1 - t0, c1 - c0


def _gather(n, conc, fetch):
    import asyncio

    async def main():
        sem = asyncio.Semaphore(conc)

        async def one(cid):
            async with sem:
                return await fetch(cid)

        await asyncio.gather(*(one(cid) for cid in ids_for(warm_count(conc), "warm")))
        ids = ids_for(n)
        t0, c0 = time.perf_counter(), cpu_s()
        res = await asyncio.gather(*(one(cid) for cid in ids))
        return res, time.perf_counter() - t0, cpu_s() - c0

    return asyncio.run(main())


def work_ours_async(url, n, conc, token):
    import codat_platform_c as codat
    with codat.Client(auth_header=AUTH, server_url=url, retries=None) as c:
        res, wall, cpu = _gather(n, conc, c.get_access_token_async)
    if len(res) != n or any(r.get("accessToken") != token for r in res):
        raise RuntimeError("bad answers")
    return wall, cpu


def work_sdk(url, n, conc, token):
    import warnings
    warnings.simplefilter("ignore")  # the SDK marks the endpoint deprecated
    from codat_platform import CodatPlatform
    from codat_platform.models import shared
    cp = CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=url)
    cm = cp.connection_management
    fetch_async = getattr(cm, "get_async", None) or cm.get_access_token_async

    def fetch(cid):
        return fetch_async(request={"company_id": cid})

    res, wall, cpu = _gather(n, conc, fetch)
    got = [getattr(r, "access_token", None) or getattr(getattr(r, "company_access_token", None),
                                                       "access_token", None) for r in res]
    if len(got) != n or any(t != token for t in got):
        raise RuntimeError(f"bad answers, e.g. {res[0]!r}")
    return wall, cpu


def work_ours_1t(url, n, conc, token):
    return work_ours(url, n, conc, token, threads=1)


WORKERS = {"ours": work_ours, "ours-1t": work_ours_1t, "ours-async": work_ours_async, "sdk": work_sdk}


def worker_main(a):
    try:
        wall, cpu = WORKERS[a.worker](a.url, a.n, a.concurrency, a.token)
        print(json.dumps({"ok": True, "wall_s": wall, "cpu_s": cpu, "tokens_per_s": a.n / wall}))
    except ImportError as exc:
        print(json.dumps({"ok": False, "skip": f"not installed: {exc.name or exc}"}))
    except Exception as exc:
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}))
    return 0


# --------------------------------------------------------------------------- the parent


def run_json_worker(cmd, timeout):
    """Runs one measurement in a fresh process; its result is the last JSON line it prints (the benches'
    workers all report so), or {"ok": False, "error": ...} when it timed out or printed none."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timed out after {timeout} s"}
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {"ok": False, "error": f"exit {p.returncode}: {p.stderr.strip()[-300:]}"}


def run_worker(name, url, n, conc, token, timeout):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", name, "--url", url, "--n", str(n),
           "--concurrency", str(conc), "--token", token]
    return run_json_worker(cmd, timeout)


def run_wrk(url, conc, seconds):
    wrk = shutil.which("wrk")
    if not wrk:
        return {"ok": False, "skip": "wrk not installed (apt-get install -y wrk)"}
    target = url + PATH % "8a210b68-6988-11ed-a1eb-0242ac120002"
    cmd = [wrk, f"-c{conc}", "-t2", f"-d{seconds}s", "-H", f"Authorization: {AUTH}",
           "-H", "Accept: application/json", target]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
    m = re.search(r"Requests/sec:\s*([\d.]+)", p.stdout)
    if p.returncode != 0 or not m:
        return {"ok": False, "error": (p.stderr or p.stdout).strip()[-300:]}
    if "Non-2xx" in p.stdout or "Socket errors" in p.stdout:
        return {"ok": False, "error": "wrk saw errors: " + p.stdout.strip()[-300:]}
    return {"ok": True, "tokens_per_s": float(m.group(1))}


def med(results, key="tokens_per_s"):
    vals = [r[key] for r in results if r.get("ok")]
    return statistics.median(vals) if vals else None


def why(results):
    for r in results:
        if not r.get("ok"):
            return r.get("skip") or r.get("error") or "failed"
    return ""


def fmt_rate(x):
    return f"{x:,.0f}" if x else "—"


def machine_line():
    import codat_platform_c as codat
    try:
        from importlib.metadata import version
        sdk = version("codat-platform")
    except Exception:
        sdk = "not installed"
    try:
        from server import nginx_version
        ngx = nginx_version()
    except Exception:
        ngx = "?"
    wrk = "?"
    if shutil.which("wrk"):
        p = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
        m = re.search(r"wrk (\S+)", p.stdout + p.stderr)
        wrk = m.group(1) if m else "?"
    load = os.getloadavg()[0]
    return (f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), Python "
            f"{platform.python_version()}, codat_platform_c {codat.__version__} ({codat.LIBCURL_VERSION}), "
            f"codat-platform {sdk}, nginx {ngx}, wrk {wrk}, load {load:.2f}, "
            f"{time.strftime('%Y-%m-%d %H:%M')}")


def paired(results, base, key="tokens_per_s"):
    """Median of per-round ratios results[r] / base[r], over rounds where both ran."""
    vals = [r[key] / b[key] for r, b in zip(results, base) if r.get("ok") and b.get("ok")]
    return statistics.median(vals) if vals else None


def parent_main(a):
    from server import TOKEN, NginxServer

    sizes = [int(s) for s in a.sizes.split(",") if s]
    conc = a.concurrency
    contenders = ["ours", "ours-1t", "ours-async", "sdk"]
    results = {n: {c: [] for c in contenders + ["wrk"]} for n in sizes}
    with NginxServer() as srv:
        url = srv.urls["http"]
        log(f"[batch] nginx at {url}")
        for r in range(a.rounds):
            order = contenders[r % len(contenders):] + contenders[:r % len(contenders)]
            for n in sizes:
                for c in order:
                    res = run_worker(c, url, n, conc, TOKEN, a.timeout)
                    results[n][c].append(res)
                    log(f"[batch] round {r + 1}/{a.rounds} n={n} {c}: "
                        + (f"{res['tokens_per_s']:,.0f} tokens/s" if res.get("ok") else why([res])))
                    if c == "ours":  # the server's ceiling, measured at the same moment
                        w = run_wrk(url, conc, a.wrk_seconds)
                        results[n]["wrk"].append(w)
                        log(f"[batch] round {r + 1}/{a.rounds} n={n} wrk -c{conc}: "
                            + (f"{w['tokens_per_s']:,.0f} req/s" if w.get("ok") else why([w])))

    lines = [
        f"### Batch: N tokens in one call, {conc} connections, plain HTTP to nginx on loopback",
        "",
        f"{machine_line()}; median of {a.rounds} rounds; ratios are medians of per-round ratios.",
        "",
        f"| tokens | ours: `get_access_tokens` (tokens/s) | ours, threads=1 (tokens/s) | ours: async gather "
        f"(tokens/s) | SDK async gather (tokens/s) | wrk -c{conc} -t2 (req/s) | ours / wrk (≥ 50 %) "
        f"| ours, threads=1 / wrk | ours / SDK (≥ 10×) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    table = {}
    for n in sizes:
        res = results[n]
        ours, ours1, ours_async, sdk, wrk = (med(res[c]) for c in contenders + ["wrk"])
        vs_wrk, vs_wrk1 = paired(res["ours"], res["wrk"]), paired(res["ours-1t"], res["wrk"])
        vs_sdk = paired(res["ours"], res["sdk"])
        table[n] = {"ours": ours, "ours_1t": ours1, "ours_async": ours_async, "sdk": sdk, "wrk": wrk,
                    "ours_vs_wrk": vs_wrk, "ours_1t_vs_wrk": vs_wrk1, "ours_vs_sdk": vs_sdk,
                    "ours_cpu_us_per_token": (med(res["ours"], "cpu_s") or 0) / n * 1e6,
                    "ours_1t_cpu_us_per_token": (med(res["ours-1t"], "cpu_s") or 0) / n * 1e6,
                    "sdk_cpu_us_per_token": (med(res["sdk"], "cpu_s") or 0) / n * 1e6}
        pct = (lambda x: f"{100 * x:.0f} %" if x else "—")
        lines.append(f"| {n:,} | {fmt_rate(ours)} | {fmt_rate(ours1)} | {fmt_rate(ours_async)} | {fmt_rate(sdk)} "
                     f"| {fmt_rate(wrk)} | {pct(vs_wrk)} | {pct(vs_wrk1)} | "
                     + (f"{vs_sdk:.1f}×" if vs_sdk else "—") + " |")
    notes = []
    for n in sizes:
        for c in contenders + ["wrk"]:
            w = why(results[n][c])
            if w:
                notes.append(f"- {c}, {n:,} tokens: {w}")
    lines.append("")
    lines.append("Client CPU per token (user + system, the whole process): "
                 + "; ".join(f"{n:,}: ours {table[n]['ours_cpu_us_per_token']:.1f} µs "
                             f"(threads=1: {table[n]['ours_1t_cpu_us_per_token']:.1f} µs), "
                             f"SDK {table[n]['sdk_cpu_us_per_token']:.1f} µs" for n in sizes) + ".")
    if notes:
        lines += ["", "Not measured:"] + notes
    print("\n".join(lines))
    if a.out:
        with open(a.out + ".md", "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(a.out + ".json", "w") as f:
            json.dump({"concurrency": conc, "rounds": a.rounds, "table": table,
                       "raw": {str(n): results[n] for n in sizes}}, f, indent=1)
        log(f"[batch] wrote {a.out}.md and {a.out}.json")
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1000,10000", help="comma list of batch sizes")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--wrk-seconds", type=int, default=3)
    p.add_argument("--timeout", type=int, default=300, help="per measurement, seconds")
    p.add_argument("--out", default=os.path.join(HERE, "batch_results"),
                   help="write PREFIX.md and PREFIX.json ('' for neither)")
    # internal: one measurement in this subprocess
    p.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    p.add_argument("--token", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        return worker_main(a)
    return parent_main(a)


if __name__ == "__main__":
    sys.exit(main())
