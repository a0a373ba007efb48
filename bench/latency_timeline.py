"""Where the time of a latency-bound batch goes: one run's time line, from nginx's side.

    python bench/latency_timeline.py [--mode batch|awaits|h2load] [--n 1000] [--delay 50] [--proto h2]
                                     [--concurrency 100] [--threads N] [--runs 5]

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

Medians over --runs fresh processes. Only a measuring tool: bench/latency_bench.py makes the tables.
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


def run_once(a, srv, url, tag):
    if a.mode == "h2load":
        shape = ["-c1", f"-m{a.concurrency or 100}"] if a.proto == "h2" else ["--h1", f"-c{a.concurrency or 100}",
                                                                            "-m1"]
        t0 = time.time()
        subprocess.run([shutil.which("h2load"), f"-n{a.n}", *shape, "-H", f"Authorization: {AUTH}",
                        f"{url}/companies/{tag}-h2load/accessToken"], capture_output=True, check=True)
        t1 = time.time()
        res = {"t0": t0, "t1": t1, "ok": a.n}
    else:
        cmd = [sys.executable, __file__, "--worker", "--mode", a.mode, "--url", url, "--ca", srv.ca_path,
               "--n", str(a.n), "--tag", tag, "--concurrency", str(a.concurrency), "--threads", str(a.threads)]
        p = subprocess.run(cmd, capture_output=True, text=True, check=True)
        res = json.loads(p.stdout.strip().splitlines()[-1])
    time.sleep(0.1)
    rows = []
    with open(srv.latency_log) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 6 and tag in parts[3]:
                done = float(parts[4])
                rows.append((done - float(parts[5]), done, parts[0]))
    return res, rows


def analyse(a, res, rows):
    c = a.concurrency or 100
    d = a.delay / 1000.0
    t0, t1 = res["t0"], res["t1"]
    arrivals = sorted(r[0] for r in rows)
    answers = sorted(r[1] for r in rows)
    per_conn = {}
    for r in rows:
        per_conn[r[2]] = per_conn.get(r[2], 0) + 1
    setup = arrivals[0] - t0
    conn_up = {}
    for r in rows:
        conn_up[r[2]] = min(conn_up.get(r[2], r[0]), r[0])
    conn_lag = max(conn_up.values()) - min(conn_up.values())  # the last connection's first request, after the first's
    last_late = arrivals[-1] - arrivals[0] - ((len(arrivals) - 1) // c) * d  # the last request, beyond the ideal
    waves = [arrivals[k * c] - arrivals[0] - k * d for k in range(1, (len(arrivals) - 1) // c + 1)]
    held = [r[1] - r[0] - d for r in rows]
    turn = [arrivals[i + c] - answers[i] for i in range(len(answers) - c)]
    first_wave = arrivals[min(c, len(arrivals)) - 1] - arrivals[0]
    return {"wall": t1 - t0, "rate": len(rows) / (t1 - t0), "of_limit": len(rows) / (t1 - t0) / (c / d),
            "ok": res["ok"], "setup": setup, "first_wave_spread": first_wave,
            "wave_late": waves, "held_med": statistics.median(held), "held_p90": sorted(held)[int(.9 * len(held))],
            "turn_med": statistics.median(turn) if turn else 0,
            "turn_p90": sorted(turn)[int(.9 * len(turn))] if turn else 0,
            "tail": t1 - answers[-1],
            "core_tail": res["all_done"] - answers[-1] if res.get("all_done") else 0, "conn_lag": conn_lag, "last_late": last_late,
            "last_held": answers[-1] - arrivals[-1] - d, "conns": sorted(per_conn.values(), reverse=True)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", default="batch", choices=["batch", "awaits", "h2load"])
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
    if a.worker:
        return worker(a)
    ms = 1000.0
    with TimedNginx(latency_ms=(a.delay,)) as srv:
        url = srv.urls[f"{a.proto}-{a.delay}"]
        out = []
        for r in range(a.runs):
            res, rows = run_once(a, srv, url, f"t{r}-{os.getpid()}")
            x = analyse(a, res, rows)
            out.append(x)
            print(f"run {r + 1}: {x['rate']:,.0f}/s ({100 * x['of_limit']:.0f} %) wall {x['wall'] * ms:.0f} ms, "
                  f"setup {x['setup'] * ms:.1f} (+{x['conn_lag'] * ms:.0f} last conn), last request late "
                  f"{x['last_late'] * ms:.0f}, last answer +{x['last_held'] * ms:.0f}, first wave spread {x['first_wave_spread'] * ms:.1f}, waves late "
                  + " ".join(f"{w * ms:.0f}" for w in x["wave_late"])
                  + f"; held +{x['held_med'] * ms:.1f}/p90 +{x['held_p90'] * ms:.1f}, turn {x['turn_med'] * ms:.1f}"
                  f"/p90 {x['turn_p90'] * ms:.1f}, tail {x['tail'] * ms:.1f} (core {x['core_tail'] * ms:.1f}) ms; conns {x['conns']}", flush=True)
        m = lambda k: statistics.median(x[k] for x in out)  # noqa: E731
        print(f"median: {m('rate'):,.0f}/s ({100 * m('of_limit'):.0f} %), wall {m('wall') * ms:.0f} ms, setup "
              f"{m('setup') * ms:.1f}, last conn +{m('conn_lag') * ms:.1f}, last request late {m('last_late') * ms:.1f}, held +{m('held_med') * ms:.1f}, turn {m('turn_med') * ms:.1f}/p90 "
              f"{m('turn_p90') * ms:.1f}, tail {m('tail') * ms:.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
