"""Latency benchmark: tokens over TLS from a server that holds every answer back 20, 50 or 200 ms.

    python bench/latency_bench.py [--delays 20,50,200] [--protocols h2,h1] [--sizes 1000,10000]
                                  [--rounds 3] [--quick] [--out PREFIX]

On loopback a call costs tens of microseconds and per-call CPU decides everything (bench.py,
batch_bench.py). Codat is across the internet: an answer takes tens to hundreds of milliseconds, and
what decides a user's wall time is how many requests are in flight and how many connections (TLS
handshakes, each a round trip or two on a real network) it takes. nginx (bench/server.py, one worker)
answers both token paths after `echo_sleep D` on TLS listeners that offer HTTP/2 and HTTP/1.1 by ALPN
(`h2`) or HTTP/1.1 only (`h1`).

Contenders, each one fresh process per measurement (its own imports, pools, getrusage and peak RSS);
the client is made before the clock starts and opens its connections inside the timed part, as a
user's first batch does; every company id is distinct and every answer is checked:

  batch C       codat_platform_c.Client(...).get_access_tokens(ids, endpoint="company", concurrency=C),
                threads left to the default; C in --concurrencies, and "default" (no concurrency
                argument: codat_platform_c.DEFAULT_CONCURRENCY)
  awaits        asyncio.gather(*(client.get_company_access_token_async(id) for id in ids)): no semaphore,
                the client's own in-flight limit (the same DEFAULT_CONCURRENCY) applies
  httpx         httpx.AsyncClient(http2=<h2 listener>, limits=max_connections=C) under a Semaphore(C)
                with C = DEFAULT_CONCURRENCY: the same concurrency, written by hand
  SDK gather    the official SDK (codat-platform 6): asyncio.gather of
                CodatPlatform(...).companies.get_access_token_async(request={"company_id": id});
                its *_async methods run the sync call in the event loop's default thread pool, so
                min(32, CPUs + 4) are in flight
  SDK sync      the same SDK's get_access_token in a loop, one at a time
  h2load        nghttp2's C load generator at the same number in flight (h2: one connection,
                `-c1 -mC`; h1: `--h1 -cC -m1`), connections included: what the server can give at
                that concurrency on this machine, with no Python at all. Needs `h2load` (Debian
                nghttp2-client); its row says so if missing

Measured: tokens/s (wall), client CPU per token (user + system of the process), connections opened
(= TLS handshakes: distinct connection serial numbers in nginx's access log for the run's company ids)
and peak RSS (VmHWM of the process, imports included). Medians over rounds; "x SDK" is the median
of per-round ratios against the SDK gather of the same cell. The "limit" of a contender is the most a
server with that delay can give it: in-flight requests / delay.

Caps, to keep a full run near 35 minutes on a busy 2-core machine: the SDK's sync loop makes at most --sdk-sync-cap calls
(default 50: it is one delay per call, so its rate is flat) and its gather at most --sdk-gather-cap
tokens at 200 ms (default 300); neither runs at 10,000 tokens (at 50 ms that is about 85 s per
measurement, at 200 ms about 6 minutes). batch 16 and the other non-default concurrencies, and httpx,
run at 1,000 tokens only. Capped cells are marked in the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep bench/ free of __pycache__
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from batch_bench import run_json_worker, why  # noqa: E402  (shared with the batch bench)

AUTH = "Basic QVBJX0tFWQ=="


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def default_concurrency():
    try:
        import codat_platform_c as codat
        return int(getattr(codat, "DEFAULT_CONCURRENCY", 16))
    except Exception:
        return 16


def sdk_pool_size():
    """asyncio's default executor: min(32, CPUs + 4) threads (concurrent.futures.ThreadPoolExecutor)."""
    return min(32, (os.cpu_count() or 1) + 4)


# --------------------------------------------------------------------------- workers (subprocesses)


def peak_rss():
    """This process's peak RSS in bytes: VmHWM, the high-water mark of its own address space. Not ru_maxrss,
    which Linux carries over exec from the forking parent (the bench's parent, 70-110 MB by the end)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def usage():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime, peak_rss()


def _check(tokens, n, token):
    bad = [t for t in tokens if t != token]
    if len(tokens) != n or bad:
        raise RuntimeError(f"{len(bad)} bad answers of {len(tokens)}, e.g. {bad[:1]!r}")


def _timed(fn):
    c0, _ = usage()
    t0 = time.perf_counter()
    out = fn()
    wall = time.perf_counter() - t0
    c1, rss = usage()
    return out, wall, c1 - c0, rss


def work_batch(a, ids):
    import codat_platform_c as codat
    kw = {} if a.concurrency == 0 else {"concurrency": a.concurrency}
    with codat.Client(auth_header=AUTH, server_url=a.url, verify=a.ca) as c:
        out, wall, cpu, rss = _timed(lambda: c.get_access_tokens(ids, endpoint="company", **kw))
    _check([v.get("accessToken") if isinstance(v, dict) else repr(v) for v in out.values()], len(ids), a.token)
    return wall, cpu, rss


def work_awaits(a, ids):
    import asyncio
    import codat_platform_c as codat

    with codat.Client(auth_header=AUTH, server_url=a.url, verify=a.ca) as c:
        async def main():
            return await asyncio.gather(*(c.get_company_access_token_async(cid) for cid in ids))
        out, wall, cpu, rss = _timed(lambda: asyncio.run(main()))
    _check([r["accessToken"] for r in out], len(ids), a.token)
    return wall, cpu, rss


def work_httpx(a, ids):
    import asyncio
    import httpx

    conc = a.concurrency or default_concurrency()
    headers = {"Authorization": AUTH, "Accept": "application/json"}

    async def main():
        limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
        async with httpx.AsyncClient(verify=a.ca, http2=a.http2, limits=limits, headers=headers) as client:
            sem = asyncio.Semaphore(conc)

            async def one(cid):
                async with sem:
                    r = await client.get(f"{a.url}/companies/{cid}/accessToken")
                    if r.status_code != 200:
                        raise RuntimeError(f"HTTP {r.status_code}")
                    return r.json()["accessToken"]

            return await asyncio.gather(*(one(cid) for cid in ids))

    out, wall, cpu, rss = _timed(lambda: asyncio.run(main()))
    _check(out, len(ids), a.token)
    return wall, cpu, rss


def _sdk(a):
    import warnings
    warnings.simplefilter("ignore")
    os.environ["SSL_CERT_FILE"] = a.ca  # the SDK's constructor has no verify knob
    from codat_platform import CodatPlatform
    from codat_platform.models import shared
    return CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=a.url)


def work_sdk_gather(a, ids):
    import asyncio
    cp = _sdk(a)

    async def main():
        return await asyncio.gather(*(cp.companies.get_access_token_async(request={"company_id": cid})
                                      for cid in ids))

    out, wall, cpu, rss = _timed(lambda: asyncio.run(main()))
    _check([r.access_token for r in out], len(ids), a.token)
    return wall, cpu, rss


def work_sdk_sync(a, ids):
    cp = _sdk(a)
    get = cp.companies.get_access_token
    out, wall, cpu, rss = _timed(lambda: [get(request={"company_id": cid}).access_token for cid in ids])
    _check(out, len(ids), a.token)
    return wall, cpu, rss


WORKERS = {"batch": work_batch, "awaits": work_awaits, "httpx": work_httpx, "sdk-gather": work_sdk_gather,
           "sdk-sync": work_sdk_sync}


def worker_main(a):
    ids = [f"{a.tag}-{i:06d}" for i in range(a.n)]
    try:
        wall, cpu, rss = WORKERS[a.worker](a, ids)
        print(json.dumps({"ok": True, "wall_s": wall, "cpu_s": cpu, "rss": rss, "n": a.n,
                          "tokens_per_s": a.n / wall, "cpu_us_per_token": cpu / a.n * 1e6}))
    except ImportError as exc:
        print(json.dumps({"ok": False, "skip": f"not installed: {exc.name or exc}"}))
    except Exception as exc:
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}))
    return 0


# --------------------------------------------------------------------------- the parent


class Contender:
    """One row of the table: a worker, its concurrency (0 = the default) and its in-flight count."""

    def __init__(self, key, label, worker, concurrency=0, inflight=0, sizes=None, cap=None):
        self.key, self.label, self.worker = key, label, worker
        self.concurrency, self.inflight = concurrency, inflight
        self.sizes = sizes          # None: every size
        self.cap = cap or {}        # delay_ms -> largest n measured (None: no cap)

    def n_for(self, n, delay):
        if self.sizes is not None and n not in self.sizes:
            return None
        cap = self.cap.get(delay, self.cap.get("all"))
        return min(n, cap) if cap else n


def contenders(a, dflt):
    first = min(a.sizes_list)
    out = []
    for c in a.concurrency_list:
        if c == dflt:
            continue
        out.append(Contender(f"batch-{c}", f"batch, concurrency={c}", "batch", c, c, sizes=[first]))
    out.append(Contender("batch-default", f"batch, default ({dflt})", "batch", 0, dflt))
    out.append(Contender("awaits", f"awaits: gather of *_async ({dflt} in flight)", "awaits", 0, dflt))
    out.append(Contender("httpx", f"httpx.AsyncClient by hand ({dflt})", "httpx", dflt, dflt, sizes=[first]))
    pool = sdk_pool_size()
    out.append(Contender("sdk-gather", f"official SDK: gather ({pool} threads)", "sdk-gather", 0, pool,
                         sizes=[first], cap={200: a.sdk_gather_cap}))
    out.append(Contender("sdk-sync", "official SDK: sync loop", "sdk-sync", 0, 1, sizes=[first],
                         cap={"all": a.sdk_sync_cap}))
    out.append(Contender("h2load", f"h2load, C, no Python ({dflt})", "h2load", dflt, dflt))
    return out


def run_h2load(c, url, n, tag, http2, timeout):
    exe = shutil.which("h2load")
    if not exe:
        return {"ok": False, "skip": "h2load not installed (apt-get install -y nghttp2-client)"}
    shape = ["-c1", f"-m{c.inflight}"] if http2 else ["--h1", f"-c{c.inflight}", "-m1"]
    cmd = [exe, f"-n{n}", *shape, "-H", f"Authorization: {AUTH}", "-H", "Accept: application/json",
           f"{url}/companies/{tag}-h2load/accessToken"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timed out after {timeout} s"}
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    m = re.search(r"finished in ([\d.]+)(ms|s), ([\d.]+) req/s", p.stdout)
    if p.returncode != 0 or not m or f"{n} succeeded" not in p.stdout:
        return {"ok": False, "error": (p.stdout + p.stderr).strip()[-300:]}
    wall = float(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"ok": True, "wall_s": wall, "cpu_s": cpu, "rss": None, "n": n, "tokens_per_s": n / wall,
            "cpu_us_per_token": cpu / n * 1e6}


def run_worker(c, url, ca, n, token, tag, http2, timeout):
    if c.worker == "h2load":
        return run_h2load(c, url, n, tag, http2, timeout)
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", c.worker, "--url", url, "--ca", ca,
           "--n", str(n), "--token", token, "--tag", tag, "--concurrency-arg", str(c.concurrency)]
    if http2:
        cmd.append("--http2")
    return run_json_worker(cmd, timeout)


def med(results, key):
    vals = [r[key] for r in results if r.get("ok") and r.get(key) is not None]
    return statistics.median(vals) if vals else None


def paired(results, base, key="tokens_per_s"):
    vals = [r[key] / b[key] for r, b in zip(results, base) if r.get("ok") and b.get("ok")]
    return statistics.median(vals) if vals else None


def machine_line(rounds):
    import codat_platform_c as codat
    try:
        from importlib.metadata import version
        sdk = version("codat-platform")
    except Exception:
        sdk = "not installed"
    try:
        import httpx
        hx = httpx.__version__
    except Exception:
        hx = "not installed"
    from server import nginx_version
    return (f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), Python "
            f"{platform.python_version()}, codat_platform_c {codat.__version__} ({codat.LIBCURL_VERSION}), "
            f"codat-platform {sdk}, httpx {hx}, nginx {nginx_version()} (1 worker), load "
            f"{os.getloadavg()[0]:.2f}, {time.strftime('%Y-%m-%d %H:%M')} UTC; medians of {rounds} rounds")


def parent_main(a):
    from server import TOKEN, NginxServer

    dflt = default_concurrency()
    rows = contenders(a, dflt)
    cells = [(d, p, n) for d in a.delays_list for p in a.protocols_list for n in a.sizes_list]
    results = {cell: {c.key: [] for c in rows} for cell in cells}
    started = time.monotonic()
    with NginxServer(latency_ms=tuple(a.delays_list)) as srv:
        log(f"[latency] nginx in {srv.dir}")
        for r in range(a.rounds):
            for cell in cells:
                d, p, n = cell
                url = srv.urls[f"{p}-{d}"]
                todo = [c for c in rows if c.n_for(n, d)]
                k = r % max(1, len(todo))
                for c in todo[k:] + todo[:k]:
                    m = c.n_for(n, d)
                    tag = f"r{r}-{p}{d}-{n}-{c.key}"
                    res = run_worker(c, url, srv.ca_path, m, TOKEN, tag, p == "h2", a.timeout)
                    time.sleep(0.05)  # the access log is unbuffered; let nginx finish its last lines
                    if res.get("ok"):
                        res.update(srv.count_connections(tag))
                        if res["requests"] < m:
                            res = {"ok": False, "error": f"nginx logged {res['requests']} of {m} requests"}
                    results[cell][c.key].append(res)
                    log(f"[latency] round {r + 1}/{a.rounds} {p} {d} ms n={n} {c.key}"
                        + (f" (n={m})" if m != n else "") + ": "
                        + (f"{res['tokens_per_s']:,.0f} tokens/s, {res['connections']} connections, "
                           f"{res['cpu_us_per_token']:.0f} us CPU/token" if res.get("ok") else why([res])))
    log(f"[latency] measured in {time.monotonic() - started:.0f} s")
    return report(a, rows, cells, results, dflt)


def report(a, rows, cells, results, dflt):
    table = {}
    for (d, p, n) in cells:
        cell = results[(d, p, n)]
        ceiling = cell.get("h2load") or []
        base = cell.get("sdk-gather") or []
        if not any(r.get("ok") for r in base):  # 10,000 tokens: the SDK's rate at 1,000, same delay
            base = results.get((d, p, min(a.sizes_list)), {}).get("sdk-gather", [])
        for c in rows:
            res = cell[c.key]
            if not res:
                continue
            rate = med(res, "tokens_per_s")
            limit = c.inflight / (d / 1000.0)
            m = c.n_for(n, d)
            table[f"{p}/{d}/{n}/{c.key}"] = {
                "protocol": p, "delay_ms": d, "tokens": n, "measured_tokens": m, "contender": c.key,
                "label": c.label, "in_flight": c.inflight, "tokens_per_s": rate,
                "cpu_us_per_token": med(res, "cpu_us_per_token"), "connections": med(res, "connections"),
                "peak_rss_mb": (med(res, "rss") or 0) / 2**20 or None, "limit_per_s": limit,
                "of_limit": rate / limit if rate else None,
                "of_h2load": (paired(res, ceiling) if c.key != "h2load" and c.inflight == dflt
                              and len(ceiling) == len(res) else None),
                "x_sdk": paired(res, base) if c.key != "sdk-gather" and len(base) == len(res) else None,
                "why": why(res)}
    lines = [
        "### Latency: tokens over TLS from a server that answers after 20, 50 or 200 ms",
        "",
        machine_line(a.rounds) + ".",
        "",
        "`bash bench/run.sh latency` (bench/latency_bench.py). nginx holds every answer back (`echo_sleep`) "
        "on TLS listeners offering HTTP/2 + HTTP/1.1 (h2) or HTTP/1.1 only (h1). Each measurement is a fresh "
        "process whose client opens its connections inside the timed part, as a first batch does. *limit* = "
        "requests in flight / delay, the most any client can get at that concurrency; *connections* = TLS "
        "handshakes counted in nginx's access log; *× SDK* = median of per-round ratios to the official "
        "SDK's gather in the same cell (at 10,000 tokens: to its 1,000-token rate, the SDK's rate being flat).",
    ]
    for d in a.delays_list:
        for p in a.protocols_list:
            lines += ["", f"**{d} ms, {'HTTP/2 offered (ALPN h2, http/1.1)' if p == 'h2' else 'HTTP/1.1 only'}**", "",
                      "| contender | tokens | tokens/s | limit (in flight / delay) | of limit | of h2load "
                      "| × SDK gather | CPU µs/token | connections | peak RSS |",
                      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
            for n in a.sizes_list:
                for c in rows:
                    t = table.get(f"{p}/{d}/{n}/{c.key}")
                    if not t:
                        continue
                    ntxt = f"{n:,}" + (f" (cap {t['measured_tokens']:,})" if t["measured_tokens"] != n else "")
                    if not t["tokens_per_s"]:
                        lines.append(f"| {c.label} | {ntxt} | — ({t['why'][:80]}) | | | | | | | |")
                        continue
                    lines.append(
                        f"| {c.label} | {ntxt} | {t['tokens_per_s']:,.0f} | {t['limit_per_s']:,.0f} "
                        f"| {100 * t['of_limit']:.0f} % | "
                        + (f"{100 * t['of_h2load']:.0f} %" if t["of_h2load"] else "—") + " | "
                        + (f"{t['x_sdk']:.1f}×" if t["x_sdk"] else "—")
                        + f" | {t['cpu_us_per_token']:,.0f} | {t['connections']:,.0f} | "
                        + (f"{t['peak_rss_mb']:.0f} MB" if t["peak_rss_mb"] else "—") + " |")
    # the targets of issue 16: 1,000 tokens at 50 ms with the defaults
    targets = []
    for p in a.protocols_list:
        for key in ("batch-default", "awaits"):
            t = table.get(f"{p}/50/1000/{key}")
            if not t or not t["tokens_per_s"]:
                continue
            ok_sdk = t["x_sdk"] is not None and t["x_sdk"] >= 10
            ok_lim = t["of_limit"] >= 0.9
            ok_h2l = t["of_h2load"] is not None and t["of_h2load"] >= 0.9
            targets.append(
                f"| {t['label']}, {p} | {t['tokens_per_s']:,.0f}/s | "
                + (f"{t['x_sdk']:.1f}×" if t["x_sdk"] else "—") + f" {'pass' if ok_sdk else 'miss'} | "
                f"{100 * t['of_limit']:.0f} % of {t['limit_per_s']:,.0f}/s {'pass' if ok_lim else 'miss'} | "
                + (f"{100 * t['of_h2load']:.0f} % {'pass' if ok_h2l else 'miss'}" if t["of_h2load"] else "—")
                + " |")
    if targets:
        lines += ["", "**Targets** (1,000 tokens, 50 ms, the defaults; shown, never asserted):", "",
                  "| contender | tokens/s | ≥ 10× the SDK's gather | ≥ 90 % of the limit (in flight / delay) "
                  "| ≥ 90 % of h2load's rate at that concurrency |", "|---|---:|---:|---:|---:|"]
        lines += targets
    caps = [f"the SDK's sync loop makes {a.sdk_sync_cap} calls per measurement (its rate is one per delay)",
            f"its gather {a.sdk_gather_cap} tokens at 200 ms",
            "neither runs at 10,000 tokens (about 85 s at 50 ms and 6 min at 200 ms per measurement)",
            "batch with a non-default concurrency and httpx run at 1,000 tokens only (httpx spends 3-11 ms "
            "of CPU per token here, so 10,000 would take minutes per measurement)"]
    lines += ["", "Capped, to keep a full run near 35 minutes on 2 cores: " + "; ".join(caps) + "."]
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out + ".md", "w") as f:
            f.write(text + "\n")
        with open(a.out + ".json", "w") as f:
            json.dump({"default_concurrency": dflt, "rounds": a.rounds, "table": table,
                       "raw": {f"{p}/{d}/{n}": results[(d, p, n)] for (d, p, n) in cells}}, f, indent=1)
        log(f"[latency] wrote {a.out}.md and {a.out}.json")
        update_results_md(a.out)
        plot(a, rows, table, a.out + ".png")
    return 0


RESULTS_SECTION = "## 6. Latency: TLS, server delays of 20, 50 and 200 ms"


def with_latency_section(results_md: str, out_dir: str) -> str:
    """results.md with its section 6 replaced by the latest latency_results.md of out_dir (bench.py rewrites
    results.md on every run; this keeps the latency figures in it)."""
    head = results_md.split("\n" + RESULTS_SECTION)[0].rstrip("\n") + "\n"
    try:
        with open(os.path.join(out_dir, "latency_results.md")) as f:
            body = f.read().split("\n", 1)[1]  # drop its own ### title
    except (OSError, IndexError):
        return head
    return (f"{head}\n{RESULTS_SECTION}\n\nFrom `bash bench/run.sh latency` (`latency_results.md`, chart "
            f"`latency_results.png`), copied here by whichever of the two benches ran last.\n{body}")


def update_results_md(out_prefix: str) -> None:
    out_dir = os.path.dirname(os.path.abspath(out_prefix))
    path = os.path.join(out_dir, "results.md")
    if os.path.basename(out_prefix) != "latency_results" or not os.path.exists(path):
        return
    with open(path) as f:
        md = f.read()
    with open(path, "w") as f:
        f.write(with_latency_section(md, out_dir))
    log(f"[latency] updated section 6 of {path}")


def plot(a, rows, table, path):
    """tokens/s at 1,000 tokens, one panel per protocol, bars per delay, log scale."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("[latency] matplotlib missing: no chart")
        return
    n = min(a.sizes_list)
    fig, axes = plt.subplots(1, len(a.protocols_list), figsize=(6.5 * len(a.protocols_list), 4.8), squeeze=False)
    width = 0.8 / max(1, len(a.delays_list))
    for ax, p in zip(axes[0], a.protocols_list):
        shown = [c for c in rows if any(table.get(f"{p}/{d}/{n}/{c.key}") for d in a.delays_list)]
        for j, d in enumerate(a.delays_list):
            vals, labels = [], []
            for c in shown:
                t = table.get(f"{p}/{d}/{n}/{c.key}") or {}
                vals.append(t.get("tokens_per_s") or 0)
                labels.append(f"{t.get('connections') or 0:.0f}" if t.get("tokens_per_s") else "")
            xs = [i + (j - (len(a.delays_list) - 1) / 2) * width for i in range(len(shown))]
            bars = ax.bar(xs, vals, width, label=f"{d} ms")
            for b, lab in zip(bars, labels):
                if lab:
                    ax.annotate(lab, (b.get_x() + b.get_width() / 2, b.get_height()), ha="center",
                                va="bottom", fontsize=6)
        ax.set_yscale("log")
        ax.set_ylim(top=ax.get_ylim()[1] * 8)  # head room for the legend above the tallest bars
        ax.set_xticks(range(len(shown)))
        ax.set_xticklabels([c.label.replace(": ", ":\n").replace(", ", ",\n") for c in shown], fontsize=6.5,
                           rotation=30, ha="right")
        ax.set_ylabel(f"tokens/s, {n:,} tokens (log)")
        ax.set_title(f"{'HTTP/2 offered' if p == 'h2' else 'HTTP/1.1 only'} over TLS "
                     "(labels: connections opened)", fontsize=9)
        ax.legend(title="server delay", fontsize=7, loc="upper center", ncol=3)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    log(f"[latency] wrote {path}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--delays", default="20,50,200", help="server delays, ms")
    p.add_argument("--protocols", default="h2,h1", help="h2 (HTTP/2 offered) and/or h1 (HTTP/1.1 only)")
    p.add_argument("--sizes", default="1000,10000", help="tokens per measurement")
    p.add_argument("--concurrencies", default="16,64,256",
                   help="batch concurrencies measured besides the default (at the smallest size)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--sdk-sync-cap", type=int, default=50)
    p.add_argument("--sdk-gather-cap", type=int, default=300, help="tokens, at 200 ms")
    p.add_argument("--quick", action="store_true", help="1 round, 50 ms, 1,000 tokens: a smoke run")
    p.add_argument("--timeout", type=int, default=600, help="per measurement, seconds")
    p.add_argument("--out", default=os.path.join(HERE, "latency_results"),
                   help="write PREFIX.md, PREFIX.json and PREFIX.png ('' for none)")
    # internal: one measurement in this subprocess
    p.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--ca", help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    p.add_argument("--token", help=argparse.SUPPRESS)
    p.add_argument("--tag", help=argparse.SUPPRESS)
    p.add_argument("--http2", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--concurrency-arg", dest="concurrency", type=int, default=0, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        return worker_main(a)
    if a.quick:
        a.delays, a.sizes, a.rounds = "50", "1000", 1
    a.delays_list = [int(x) for x in a.delays.split(",") if x]
    a.protocols_list = [x for x in a.protocols.split(",") if x]
    a.sizes_list = [int(x) for x in a.sizes.split(",") if x]
    a.concurrency_list = [int(x) for x in a.concurrencies.split(",") if x]
    return parent_main(a)


if __name__ == "__main__":
    sys.exit(main())
