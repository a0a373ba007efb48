"""Where the time of a latency-bound batch goes: one run's time line, from nginx's side.

    python bench/latency_timeline.py [--modes batch,awaits,h2load,h2load-c2] [--n 1000] [--delay 50]
                                     [--proto h2] [--concurrency 100] [--threads N] [--runs 5]

bench/latency_bench.py says how far a contender is from its limit (in flight / delay); this says where the
rest goes. nginx (bench/server.py's latency listeners) logs every request with when it arrived and when it
was answered ($msec - $request_time, $msec, both in ms), and its connection; the client, in a fresh process
as in the bench, reports the epoch time of the call and of its return. From those, per run:

  setup     call start -> first request at the server (client start-up: threads, TLS handshake, the
            first h2 frames)
  waves     the arrival of request k*C (k = 1..): when wave k started, against the ideal setup + k*delay
  held      answer - arrival: the server's delay (its timer's lateness beyond `delay`)
  turn      for the i-th answer, how long until the (i+C)-th request arrived: the client's turnaround
            (read the answer, start the next transfer, the server reading it); median and p90
  tail      last answer -> call returned (the last answers' handling, building the result)
  per conn  requests per connection (each connection is one TLS handshake)

  tail (core) last answer -> the core's final progress call (before the result is built in Python)

The modes (each a fresh process per run, measured in turn, the order rotating from run to run, so that
every mode sees the same load): batch (get_access_tokens, endpoint="company", the default concurrency and
threads), awaits (asyncio.gather of get_company_access_token_async), h2load (nghttp2's C client, one
connection, -m C) and h2load-c2 (two connections of C/2 streams: the batch's shape on 2 CPUs). Medians
over --runs, and each mode's median per-run ratio to h2load's rate. A measuring tool, not a table maker
(bench/latency_bench.py makes the tables); what it found is in bench/latency_gap.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from server import TOKEN, NginxServer  # noqa: E402

AUTH = "Basic QVBJX0tFWQ=="


class TimedNginx(NginxServer):
    """bench/server.py's nginx with arrival and answer times in the latency access log."""

    def _write_conf(self) -> str:
        path = super()._write_conf()
        with open(path) as f:
            conf = f.read()
        old = "log_format latency '$connection $server_port $server_protocol $request_uri';"
        assert old in conf, "bench/server.py's latency log format changed"
        conf = conf.replace(old, "log_format latency '$connection $server_port $server_protocol $request_uri "
                                 "$msec $request_time';")
        with open(path, "w") as f:
            f.write(conf)
        return path


def worker(a):
    ids = [f"{a.tag}-{i:06d}" for i in range(a.n)]
    if a.mode == "batch":
        import codat_platform_c as codat
        kw = {} if not a.concurrency else {"concurrency": a.concurrency}
        if a.threads:
            kw["threads"] = a.threads
        finals = []  # when the core said "all done": its last progress call, before the result is built

        def progress(done, total):
            if done == total:
                finals.append(time.time())
        kw["progress"] = progress
        with codat.Client(auth_header=AUTH, server_url=a.url, verify=a.ca) as c:
            t0, c0 = time.time(), time.process_time()
            out = c.get_access_tokens(ids, endpoint="company", **kw)
            t1, c1 = time.time(), time.process_time()
        ok = sum(1 for v in out.values() if isinstance(v, dict) and v.get("accessToken") == TOKEN)
        extra = {"all_done": finals[0] if finals else None}
    else:
        import asyncio
        import codat_platform_c as codat
        with codat.Client(auth_header=AUTH, server_url=a.url, verify=a.ca) as c:
            async def main():
                return await asyncio.gather(*(c.get_company_access_token_async(i) for i in ids))
            t0, c0 = time.time(), time.process_time()
            out = asyncio.run(main())
            t1, c1 = time.time(), time.process_time()
        ok = sum(1 for v in out if v.get("accessToken") == TOKEN)
        extra = {}
    print(json.dumps({**extra, "t0": t0, "t1": t1, "ok": ok, "cpu_us_per_token": (c1 - c0) / a.n * 1e6}))


MODES = ("batch", "awaits", "h2load", "h2load-c2")


def run_once(a, mode, srv, url, tag):
    """One measurement of `mode`: the client's own start and end times, and nginx's rows for `tag`."""
    conc = a.concurrency or 100
    if mode.startswith("h2load"):
        conns = 2 if mode == "h2load-c2" else 1  # -c2: two connections of 50 streams, the batch's own shape here
        shape = [f"-c{conns}", f"-m{conc // conns}"] if a.proto == "h2" else ["--h1", f"-c{conc}", "-m1"]
        t0 = time.time()
        subprocess.run([shutil.which("h2load"), f"-n{a.n}", *shape, "-H", f"Authorization: {AUTH}",
                        f"{url}/companies/{tag}-h2load/accessToken"], capture_output=True, check=True)
        t1 = time.time()
        res = {"t0": t0, "t1": t1, "ok": a.n, "cpu_us_per_token": None}
    else:
        cmd = [sys.executable, __file__, "--worker", "--modes", mode, "--url", url, "--ca", srv.ca_path,
               "--n", str(a.n), "--tag", tag, "--concurrency", str(a.concurrency), "--threads", str(a.threads)]
        p = subprocess.run(cmd, capture_output=True, text=True, check=True)
        res = json.loads(p.stdout.strip().splitlines()[-1])
    time.sleep(0.1)  # the access log is unbuffered; let nginx write its last lines
    rows = []
    with open(srv.latency_log) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 6 and tag in parts[3]:
                done = float(parts[4])
                rows.append((done - float(parts[5]), done, parts[0]))
    return res, rows


def analyse(a, res, rows):
    """The run's time line in seconds (see the module's docstring). nginx's clock has 1 ms steps."""
    c = a.concurrency or 100
    d = a.delay / 1000.0
    t0, t1 = res["t0"], res["t1"]
    arrivals = sorted(r[0] for r in rows)
    answers = sorted(r[1] for r in rows)
    per_conn, conn_up = {}, {}
    for arrived, _, conn in rows:
        per_conn[conn] = per_conn.get(conn, 0) + 1
        conn_up[conn] = min(conn_up.get(conn, arrived), arrived)
    turn = [arrivals[i + c] - answers[i] for i in range(len(answers) - c)]
    held = sorted(r[1] - r[0] - d for r in rows)
    return {
        "wall": t1 - t0, "rate": len(rows) / (t1 - t0), "of_limit": len(rows) / (t1 - t0) / (c / d),
        "ok": res["ok"] == a.n == len(rows), "cpu_us_per_token": res.get("cpu_us_per_token"),
        "setup": arrivals[0] - t0,
        "conn_lag": max(conn_up.values()) - min(conn_up.values()),  # last connection's first request, after the first's
        "wave_late": [arrivals[k * c] - arrivals[0] - k * d for k in range(1, (len(arrivals) - 1) // c + 1)],
        "last_late": arrivals[-1] - arrivals[0] - ((len(arrivals) - 1) // c) * d,  # the last request, beyond the ideal
        "held_med": statistics.median(held), "held_p90": held[int(.9 * len(held))],
        "turn_med": statistics.median(turn) if turn else 0.0,
        "turn_p90": sorted(turn)[int(.9 * len(turn))] if turn else 0.0,
        "tail": t1 - answers[-1],
        "core_tail": res["all_done"] - answers[-1] if res.get("all_done") else None,
        "conns": sorted(per_conn.values(), reverse=True)}


def line(x):
    ms = 1000.0
    core = f" (core {x['core_tail'] * ms:.1f})" if x["core_tail"] is not None else ""
    cpu = f", CPU {x['cpu_us_per_token']:.0f} us/token" if x["cpu_us_per_token"] else ""
    return (f"{x['rate']:,.0f}/s ({100 * x['of_limit']:.0f} %), wall {x['wall'] * ms:.0f} ms{cpu}; setup "
            f"{x['setup'] * ms:.1f} ms (last connection +{x['conn_lag'] * ms:.0f}); waves late "
            + " ".join(f"{w * ms:.0f}" for w in x["wave_late"])
            + f"; last request late {x['last_late'] * ms:.0f}; held +{x['held_med'] * ms:.0f}/p90 "
            f"+{x['held_p90'] * ms:.0f}; turn {x['turn_med'] * ms:.1f}/p90 {x['turn_p90'] * ms:.1f}; tail "
            f"{x['tail'] * ms:.1f}{core} ms; requests per connection {x['conns']}" + ("" if x["ok"] else " BAD"))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--modes", default="batch,awaits,h2load",
                   help="measured in turn within each run: " + ", ".join(MODES))
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--delay", type=int, default=50)
    p.add_argument("--proto", default="h2", choices=["h2", "h1"])
    p.add_argument("--concurrency", type=int, default=0, help="0: the default")
    p.add_argument("--threads", type=int, default=0, help="0: threads=auto")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--ca", help=argparse.SUPPRESS)
    p.add_argument("--tag", help=argparse.SUPPRESS)
    a = p.parse_args()
    modes = [m for m in a.modes.split(",") if m]
    bad = [m for m in modes if m not in MODES]
    if bad:
        p.error(f"unknown mode {bad[0]!r}; choose from {', '.join(MODES)}")
    if a.worker:
        a.mode = modes[0]
        return worker(a)
    if any(m.startswith("h2load") for m in modes) and not shutil.which("h2load"):
        p.error("h2load is not installed (apt-get install -y nghttp2-client)")
    ms = 1000.0
    out = {m: [] for m in modes}
    with TimedNginx(latency_ms=(a.delay,)) as srv:
        url = srv.urls[f"{a.proto}-{a.delay}"]
        for r in range(a.runs):
            k = r % len(modes)  # rotate the order, so that no mode always runs first
            for mode in modes[k:] + modes[:k]:
                res, rows = run_once(a, mode, srv, url, f"t{r}-{mode}-{os.getpid()}")
                x = analyse(a, res, rows)
                out[mode].append(x)
                print(f"run {r + 1} {mode}: {line(x)}", flush=True)
    print(f"\nmedians of {a.runs} runs, {a.n:,} tokens, {a.delay} ms, {a.proto}, load {os.getloadavg()[0]:.1f}:")
    ref = out.get("h2load")
    for mode, xs in out.items():
        m = lambda k: statistics.median(x[k] for x in xs)  # noqa: E731
        of_ref = ""
        if ref and mode != "h2load":
            of_ref = f", {100 * statistics.median(x['rate'] / h['rate'] for x, h in zip(xs, ref)):.0f} % of h2load's rate"
        cpu = [x["cpu_us_per_token"] for x in xs if x["cpu_us_per_token"]]
        print(f"  {mode:10s} {m('rate'):,.0f}/s = {100 * m('of_limit'):.0f} % of the limit{of_ref}"
              + (f", CPU {statistics.median(cpu):.0f} us/token" if cpu else "")
              + f"; setup {m('setup') * ms:.1f} ms, last request late {m('last_late') * ms:.0f} ms, turn "
              f"{m('turn_med') * ms:.1f}/p90 {m('turn_p90') * ms:.1f} ms, tail {m('tail') * ms:.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
