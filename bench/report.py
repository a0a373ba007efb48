"""bench/results.md and results.png from a run's measurements (or a saved results.json): one function per
table, in the order the page shows them.  bench.py measures; this only formats."""

from __future__ import annotations

import sys

# The contenders in the order every table lists them, and their labels (bench.py measures the same list).
PY_CONTENDERS = ["ext", "facade", "sdk", "sdk-httpx", "httpx", "requests", "pycurl"]
LABEL = {
    "floor": "floor (C: libcurl + cJSON)",
    "ext": "codat_platform_c (this)",
    "facade": "codat_platform_c.sdk (drop-in facade)",
    "sdk": "codat-platform SDK",
    "sdk-httpx": "codat-platform SDK + httpx client",
    "httpx": "httpx by hand",
    "requests": "requests by hand",
    "pycurl": "pycurl by hand",
}
SEQ_BLOCKS = 10  # figure 1 times each measurement in 10 blocks and keeps the median block


def fmt(x, nd=1):
    if x is None:
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{nd}f}"


def ratio(a, b, nd=2):
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.{nd}f}×"


def xr(x, nd=2):
    return "–" if x is None else f"{x:.{nd}f}×"


def verdict(ok):
    if ok is None:
        return "n/a"
    return "**pass**" if ok else "**miss**"


def _header(meta):
    """The run, the machine, CPU placement, the server, and what was skipped."""
    L = []
    m = meta["machine"]
    L.append("# codat_platform_c benchmark results\n")
    fs = ", ".join(f"{k} {v:.0f} s" for k, v in meta.get("figure_seconds", {}).items())
    L.append(f"Run: `{meta['command']}` — {meta['mode']}, {meta['rounds']} round(s) for figure 1, "
             f"took {meta['elapsed_s']:.0f} s ({fs}).\n")
    L.append("| machine | |\n|---|---|")
    for k in ("date", "nproc", "cpu", "kernel", "python", "libcurl (floor, extension)", "pycurl", "nginx",
              "openssl", "extension", "repo", "loadavg_at_start"):
        L.append(f"| {k} | {m.get(k, '?')} |")
    L.append(f"| loadavg at end | {meta.get('loadavg_at_end', '?')} |")
    if meta.get("busy_at_start"):
        L.append(f"| machine at start | {meta['busy_at_start']} |")
    pk = ", ".join(f"{k} {v}" for k, v in m.get("packages", {}).items())
    L.append(f"| packages | {pk} |")
    L.append("")
    pins = meta.get("pinning", {})
    pin_txt = {"same": "nginx's worker and the client pinned to the same CPU",
               "split": "nginx's worker and the client pinned to different CPUs",
               "none": "CPU placement left to the scheduler"}
    L.append("CPU placement: " + "; ".join(f"{k}: {pin_txt.get(v, v)}" for k, v in pins.items()) +
             ". (On this VM a request that crosses CPUs pays a wake-up of ~70 µs, more than the whole "
             "same-CPU call, and unpinned runs flip between the two modes; see bench/README.md.)\n")
    L.append("Server: nginx on 127.0.0.1 (1 worker, keep-alive, `keepalive_requests` 100,000,000), "
             "HTTP and HTTPS (self-signed P-256 cert, TLS 1.3), and a third listener whose responses "
             "wait 1 ms (`echo_sleep 0.001`). Client and server share the machine's "
             f"{m.get('nproc')} cores. Every number is the median over rounds; contenders are "
             "interleaved round-robin (order rotated each round), each measurement in a fresh process.\n")
    avail = meta["available"]
    if "ext" not in avail:
        L.append(f"**codat_platform_c: {meta['skipped'].get('ext', 'not built')}** — its rows are missing.\n")
    for c, why in meta["skipped"].items():
        if c != "ext":
            L.append(f"- {LABEL.get(c, c)} skipped: {why}")
    return L

def _targets(meta, res):
    """The targets table: each goal, what was measured, pass or miss."""
    L = []
    tg = []
    seq = res.get("seq", {}).get("summary", {})
    for target in ("http", "https"):
        s = seq.get(target, {})
        e = s.get("ext", {})
        xf, xs = e.get("x_floor_us"), e.get("sdk_speedup_us")
        best = e.get("x_floor_best")
        tg.append((f"sequential {target.upper()} within 1.10× of the floor (wall time)", "≤ 1.10×",
                   xr(xf) + ("" if best is None else f" (best run vs best run: {xr(best)})"),
                   None if xf is None else xf <= 1.10))
        sb = e.get("sdk_speedup_best")
        tg.append((f"sequential {target.upper()} ≥ 5× faster than the official SDK (wall time)", "≥ 5×",
                   xr(xs) + ("" if sb is None else f" (best run vs best run: {xr(sb)})"),
                   None if xs is None else xs >= 5))
    for target in ("http", "https"):
        f = seq.get(target, {}).get("facade", {})
        xe, xsdk = f.get("x_ext_cpu"), f.get("sdk_speedup_cpu")
        tg.append((f"sequential {target.upper()}: drop-in facade CPU per call vs the core's", "≤ 1.15×",
                   xr(xe) + ("" if xsdk is None else f" (official SDK ÷ facade, CPU: {xr(xsdk)})"),
                   None if xe is None else xe <= 1.15))
    imp = res.get("cold", {}).get("import_ms", {}).get("ext")
    tg.append(("`import codat_platform_c` in a fresh process", "< 5 ms",
               "–" if imp is None else f"{imp:.2f} ms", None if imp is None else imp < 5))
    cc = res.get("cold", {}).get("cold_call_ms", {})
    fs = cc["facade"] / cc["sdk"] if cc.get("facade") and cc.get("sdk") else None
    tg.append(("SDK facade, token calls only: fresh process + 1 call, against the official SDK's", "< 0.20×",
               "–" if fs is None else f"{fs:.2f}×", None if fs is None else fs < 0.2))
    th = res.get("threads", {}).get("summary", {}).get("ext", {})
    s2 = th[2] / th[1] if th.get(1) and th.get(2) else None
    tg.append(("2 threads vs 1, 1 ms delay, one shared client", "≥ 1.6×",
               "–" if s2 is None else f"{s2:.2f}×", None if s2 is None else s2 >= 1.6))
    mm = res.get("mem", {}).get("summary", {}).get("ext")
    g = mm["growth_per_100k_kb"] if mm else None
    tg.append(("RSS growth over 100,000 calls", "< 1 MB (1024 KB)",
               "–" if g is None else f"{g:+.0f} KB" + ("" if mm["calls"] >= 100000 else
                                                          f" (scaled from {mm['calls']:,})"),
               None if g is None else g < 1024))
    L.append("\n## Targets (codat_platform_c)\n")
    L.append("| target | goal | measured | |\n|---|---|---|---|")
    for name, goal, val, ok in tg:
        L.append(f"| {name} | {goal} | {val} | {verdict(ok)} |")
    return L


def _fig_seq(meta, res):
    """Figure 1: sequential calls, one table per target (HTTP, HTTPS)."""
    L = []
    seq = res.get("seq", {}).get("summary", {})
    if seq:
        L.append("\n## 1. Sequential calls, one client, keep-alive\n")
        L.append("µs per call = wall time; CPU = user+system time of the client process (getrusage); "
                 f"each measurement times its calls in {SEQ_BLOCKS} blocks and keeps the median block. "
                 "× floor = this ÷ floor (lower is better, 1.00× is the C floor); "
                 "SDK ÷ this = how many times faster than the official SDK (higher is better). "
                 "Ratios are medians of per-round ratios (both measured in the same round), "
                 "µs columns medians over rounds. Other load on the machine only ever adds time, so "
                 "'best vs best' (fastest run against the other's fastest run) is the estimate least touched by it: "
                 "load slows a latency-bound fast client (each call waits for nginx to be scheduled) far more, "
                 "in proportion, than a CPU-bound slow one, so a busy machine shrinks the speed-ups.\n")
        for target in ("http", "https"):
            s = seq.get(target, {})
            if not s:
                continue
            L.append(f"### {target.upper()}\n")
            L.append("| contender | µs/call | × floor | SDK ÷ this | CPU µs/call | CPU × floor | SDK CPU ÷ this "
                     "| CPU × core (ext) | spread µs (min–max) | × floor, best vs best | SDK ÷ this, best vs best "
                     "| calls × runs |")
            L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            for c in ["floor"] + PY_CONTENDERS:
                if c not in s:
                    continue
                v = s[c]
                L.append(f"| {LABEL[c]} | {fmt(v['us'])} | {xr(v['x_floor_us'])} | "
                         f"{xr(v['sdk_speedup_us'])} | {fmt(v['cpu'])} | {xr(v['x_floor_cpu'])} | "
                         f"{xr(v['sdk_speedup_cpu'])} | {xr(v.get('x_ext_cpu'))} | "
                         f"{fmt(v['us_min'])}–{fmt(v['us_max'])} | "
                         f"{xr(v.get('x_floor_best'))} | {xr(v.get('sdk_speedup_best'))} | "
                         f"{v['calls']:,} × {v['runs']} |")
            L.append("")
        for k2, e in res["seq"].get("errors", {}).items():
            L.append(f"- error {k2}: {e}")
    return L


def _fig_threads(meta, res):
    """Figure 2: threads sharing one client."""
    L = []
    th = res.get("threads", {})
    if th.get("summary"):
        s = th["summary"]
        ts = sorted({t for v in s.values() for t in v})
        L.append("\n## 2. Threads sharing one client, 1 ms server delay\n")
        L.append(f"Calls per second ({th['calls_per_thread']} calls per thread, after 20 warm-up calls per "
                 "thread). The floor runs one libcurl handle per thread; pycurl one handle per thread "
                 "(a pycurl handle cannot be shared); everything else shares one client object. "
                 "scale = rate ÷ its own 1-thread rate; × floor and × SDK compare rates at that thread count "
                 "(higher is better).\n")
        hdr = "| contender | " + " | ".join(f"{t} thr calls/s" for t in ts) + " | " + \
              " | ".join(f"scale {t}/1" for t in ts if t > 1) + " | × floor @2 | × SDK @2 | × floor @8 | × SDK @8 |"
        L.append(hdr)
        L.append("|---|" + "---:|" * (len(ts) + len([t for t in ts if t > 1]) + 4))
        fl, sd = s.get("floor", {}), s.get("sdk", {})
        for c in ["floor"] + PY_CONTENDERS:
            if c not in s:
                continue
            v = s[c]
            row = [LABEL[c]] + [fmt(v.get(t), 0) for t in ts]
            row += [ratio(v.get(t), v.get(1)) for t in ts if t > 1]
            row += [ratio(v.get(2), fl.get(2)), ratio(v.get(2), sd.get(2)),
                    ratio(v.get(8), fl.get(8)), ratio(v.get(8), sd.get(8))]
            L.append("| " + " | ".join(row) + " |")
        for k2, e in th.get("errors", {}).items():
            L.append(f"- error {k2}: {e}")
    return L


def _fig_cold(meta, res):
    """Figure 3: import time and a fresh process's first call."""
    L = []
    cold = res.get("cold", {})
    if cold.get("cold_call_ms"):
        im, cc = cold["import_ms"], cold["cold_call_ms"]
        L.append("\n## 3. Cold start\n")
        L.append("import = time of the import statement alone, timed inside a fresh `python -c` "
                 "(perf_counter around it). fresh process + 1 call = spawn-to-exit wall time of "
                 "`python -c` that imports, makes a client and fetches one token (includes the "
                 f"interpreter's own start: bare `python -c pass` = {fmt(cc.get('python'))} ms). "
                 "The floor's figure is the C program doing one call in a fresh process.\n")
        L.append("| contender | import ms | SDK ÷ this | fresh process + 1 call ms | × floor | SDK ÷ this |")
        L.append("|---|---:|---:|---:|---:|---:|")
        for c in ["floor", "python", "ext", "facade", "sdk", "httpx", "requests", "pycurl"]:
            if c not in cc and c not in im:
                continue
            label = "bare `python -c pass`" if c == "python" else LABEL[c]
            L.append(f"| {label} | {fmt(im.get(c), 2)} | {ratio(im.get('sdk'), im.get(c), 1)} | "
                     f"{fmt(cc.get(c))} | {ratio(cc.get(c), cc.get('floor'))} | "
                     f"{ratio(cc.get('sdk'), cc.get(c))} |")
        for c in ("ext", "sdk"):
            top = cold.get("importtime_top", {}).get(c)
            if top:
                L.append(f"\n`python -X importtime` for {LABEL[c]}, largest cumulative entries (one run): " +
                         ", ".join(f"{name} {us / 1000:.1f} ms" for us, name in top))
        for k2, e in cold.get("errors", {}).items():
            L.append(f"- error {k2}: {e}")
    return L


def _fig_mem(meta, res):
    """Figure 4: RSS after import and its growth over many calls."""
    L = []
    mem = res.get("mem", {})
    if mem.get("summary"):
        s = mem["summary"]
        L.append("\n## 4. Memory (RSS, from /proc/self/statm)\n")
        L.append("after import = after the import and making the client, in a worker that already "
                 "imported argparse/json/threading; growth = RSS after N more calls minus RSS after a "
                 "warm-up; per 100k = growth × 100,000 ÷ N — **scaled** (linear extrapolation) where N "
                 "< 100,000. The floor C program peaks at "
                 f"{fmt(meta.get('floor_maxrss_kb'), 0)} KB max RSS for comparison.\n")
        L.append("| contender | after import MB | after 1 call MB | × SDK | N calls (after warm-up) | "
                 "growth KB (median, max) | growth per 100k calls KB |")
        L.append("|---|---:|---:|---:|---:|---:|---:|")
        sd = s.get("sdk", {})
        for c in PY_CONTENDERS:
            if c not in s:
                continue
            v = s[c]
            scaled = "" if v["calls"] >= 100000 else " (scaled)"
            L.append(f"| {LABEL[c]} | {v['rss_import_kb'] / 1024:.1f} | {v['rss_one_call_kb'] / 1024:.1f} | "
                     f"{ratio(v['rss_one_call_kb'], sd.get('rss_one_call_kb'))} | {v['calls']:,} "
                     f"(+{v['warmup']:,}) | {v['growth_kb']:+.0f} ({v['growth_max_kb']:+.0f}) | "
                     f"{v['growth_per_100k_kb']:+.0f}{scaled} |")
        for k2, e in mem.get("errors", {}).items():
            L.append(f"- error {k2}: {e}")
    return L


def _fig_batch(meta, res):
    """Figure 5: a batch of tokens concurrently."""
    L = []
    b = res.get("batch", {})
    if b:
        L.append(f"\n## 5. {b.get('calls', 1000):,} tokens concurrently (concurrency 16, 1 ms server delay)\n")
        L.append("Runs only the paths that exist: the extension's `get_access_tokens(ids, concurrency=16)` and "
                 "`asyncio.gather` over `get_access_token_async` (16 at a time via a semaphore); the SDK's "
                 "async method with the same gather + semaphore; httpx.AsyncClient as a reference.\n")
        s = b.get("summary", {})
        sdk_best = max((v["tokens_per_s"] for v in s.get("sdk", {}).values()), default=None)
        if s:
            L.append("| contender | path | total ms | tokens/s | CPU µs/token | × SDK |")
            L.append("|---|---|---:|---:|---:|---:|")
            for c in ("ext", "sdk", "httpx"):
                for label, v in s.get(c, {}).items():
                    L.append(f"| {LABEL[c]} | `{label}` | {fmt(v['ms'])} | {fmt(v['tokens_per_s'], 0)} | "
                             f"{fmt(v['cpu_us_per_call'])} | {ratio(v['tokens_per_s'], sdk_best)} |")
        for c, why in b.get("notes", {}).items():
            L.append(f"- {LABEL.get(c, c)}: {why}")
    return L


def report(meta, res, args=None):
    """The whole of results.md (but section 6, which latency_bench.with_latency_section adds)."""
    L = _header(meta)
    for section in (_targets, _fig_seq, _fig_threads, _fig_cold, _fig_mem, _fig_batch):
        L += section(meta, res)
    L.append("")
    return "\n".join(L)


def chart(res, path):
    """results.png: figure 1 against the floor and the SDK, figure 2's scaling."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception as e:
        print("no matplotlib, no chart:", e, file=sys.stderr, flush=True)
        return False
    seq = res.get("seq", {}).get("summary", {})
    th = res.get("threads", {}).get("summary", {})
    cs = [c for c in ["floor"] + PY_CONTENDERS if c in seq.get("http", {}) or c in seq.get("https", {})]
    fig, axes = plt.subplots(1, 3, figsize=(18, 5.5))

    width = 0.2
    series = [("http", "us", "HTTP wall"), ("https", "us", "HTTPS wall"),
              ("http", "cpu", "HTTP CPU"), ("https", "cpu", "HTTPS CPU")]

    def vals(t, key):
        return [seq.get(t, {}).get(c, {}).get(key) or 0 for c in cs]

    ax = axes[0]
    for i, (t, key, lab) in enumerate(series):
        ax.bar([x + (i - 1.5) * width for x in range(len(cs))], vals(t, "x_floor_" + key), width, label=lab)
    ax.axhline(1.10, color="red", ls="--", lw=1, label="target 1.10×")
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(cs)), cs, rotation=20)
    ax.set_ylabel("× C floor, log scale (lower is better)")
    ax.set_title("1. sequential keep-alive: per call ÷ C floor")
    ax.legend(fontsize=8)

    ax = axes[1]
    for i, (t, key, lab) in enumerate(series):
        ax.bar([x + (i - 1.5) * width for x in range(len(cs))], vals(t, "sdk_speedup_" + key), width, label=lab)
    ax.axhline(5, color="red", ls="--", lw=1, label="target 5×")
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_xticks(range(len(cs)), cs, rotation=20)
    ax.set_ylabel("SDK ÷ contender (higher is better)")
    ax.set_title("1. sequential keep-alive: speed-up over official SDK")
    ax.legend(fontsize=8)

    ax = axes[2]
    tcs = [c for c in ["floor"] + PY_CONTENDERS if c in th]
    ts = sorted({t for v in th.values() for t in v})
    width = 0.8 / max(1, len(ts))
    for i, t in enumerate(ts):
        vals = [(th[c].get(t) or 0) / th[c][1] if th[c].get(1) else 0 for c in tcs]
        ax.bar([x + (i - (len(ts) - 1) / 2) * width for x in range(len(tcs))], vals, width, label=f"{t} threads")
    ax.axhline(1.6, color="red", ls="--", lw=1, label="target 1.6× @2")
    ax.set_xticks(range(len(tcs)), tcs, rotation=20)
    ax.set_ylabel("calls/s ÷ own 1-thread rate")
    ax.set_title("2. threads sharing one client, 1 ms delay")
    ax.set_ylim(0, max([8.5] + [(th[c].get(t) or 0) / th[c][1] * 1.15 for c in tcs for t in ts if th[c].get(1)]))
    ax.legend(fontsize=8, loc="upper left", ncol=2)

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
