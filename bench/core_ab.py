"""Paired A/B of the core's sequential per-call cost: two builds of the extension, the same loopback nginx.

    python bench/core_ab.py A_DIR B_DIR [--calls 2000] [--rounds 7] [--callgrind] [--mode call|await|batch]

A_DIR and B_DIR are checkouts with the extension built in place (python setup.py build_ext --inplace).
Each round runs, in a fresh process per build (A and B interleaved, order alternating), --calls blocking
get_company_access_token calls on one keep-alive connection after 200 warm-up calls (--mode await: as
sequential awaits of get_company_access_token_async; --mode batch: one get_access_tokens batch of --calls
companies), and reports CPU time per call (process_time); the medians and the B/A ratio come last. With --callgrind, each build also runs
once under valgrind --tool=callgrind with 200 and 200 + --calls calls: the difference / --calls is the
instructions per call, free of timing noise (the server is another process and is not counted).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from server import NginxServer  # noqa: E402

CHILD = r"""
import asyncio, sys, time
sys.path.insert(0, sys.argv[1])
import codat_platform_c as c
client = c.Client(auth_header="Basic eA==", server_url=sys.argv[2])
n = int(sys.argv[3]); warm = int(sys.argv[4]); mode = sys.argv[5]
for i in range(warm):
    client.get_company_access_token("warm")
t0 = time.process_time()
if mode == "call":
    for i in range(n):
        client.get_company_access_token("company-%d" % (i % 50))
elif mode == "await":
    async def main():
        for i in range(n):
            await client.get_company_access_token_async("company-%d" % (i % 50))
    asyncio.run(main())
else:
    client.get_access_tokens(["company-%d" % i for i in range(n)], endpoint="company")
print((time.process_time() - t0) / max(n, 1) * 1e6)
"""

MODE = "call"


def run(build, url, n, warm, prefix=()):
    out = subprocess.run([*prefix, sys.executable, "-c", CHILD, build, url, str(n), str(warm), MODE],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def instructions(build, url, n):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        run(build, url, n, 200, ("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"))
        with open(out) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    return int(line.split()[1])
    raise RuntimeError("no callgrind summary")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--mode", choices=("call", "await", "batch"), default="call")
    args = ap.parse_args()
    global MODE
    MODE = args.mode
    srv = NginxServer(tempfile.mkdtemp())
    srv.start()
    try:
        url = srv.urls["http"]
        cpu = {"A": [], "B": []}
        for r in range(args.rounds):
            order = ("A", "B") if r % 2 == 0 else ("B", "A")
            for k in order:
                cpu[k].append(run(args.a if k == "A" else args.b, url, args.calls, 200))
            print(f"round {r + 1}: A {cpu['A'][-1]:.1f} us/call, B {cpu['B'][-1]:.1f} us/call", flush=True)
        ma, mb = statistics.median(cpu["A"]), statistics.median(cpu["B"])
        print(f"CPU per call, median of {args.rounds}: A {ma:.1f} us, B {mb:.1f} us, B/A {mb / ma:.3f}")
        if args.callgrind:
            for k, d in (("A", args.a), ("B", args.b)):
                base = instructions(d, url, 0)
                full = instructions(d, url, args.calls)
                print(f"callgrind {k}: {(full - base) / args.calls:,.0f} instructions per call")
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
