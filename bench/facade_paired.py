"""The facade's CPU over the core's, paired inside one process: the figure bench.py's facade row gives, with less
of the machine's noise in it.

    python bench/facade_paired.py [--schemes http,https] [--processes 8] [--pairs 20] [--block 500]

bench.py measures each contender in its own process, one after the other, so on a shared machine the load
that changes between the two processes goes into the ratio (single rounds swing 0.9-1.8x at load 2). Here one
process holds both a bare ``codat_platform_c.Client`` (contender ext) and ``codat_platform_c.sdk.CodatPlatform``
(contender facade, worker.py's call: ``companies.get_access_token(request={...}).access_token``), both on
keep-alive connections to the same loopback nginx (bench/server.py), and alternates blocks of --block calls of
each (the order flips every pair); CPU time is the process's (user + system, time.process_time). Each process
gives the median of its per-pair ratios, facade / ext; the figure is the median over --processes processes.
"""
import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from server import NginxServer  # noqa: E402

CHILD = r"""
import statistics, sys, time, warnings
sys.path.insert(0, sys.argv[1])
import worker
url, ca, pairs, block = sys.argv[2], sys.argv[3] or None, int(sys.argv[4]), int(sys.argv[5])
ext, _ = worker.MAKERS["ext"](url, ca)
facade, _ = worker.MAKERS["facade"](url, ca)


def cpu_per_call(call, n):
    start = time.process_time()
    for _ in range(n):
        call(worker.CID)
    return (time.process_time() - start) / n


cpu_per_call(ext, 300)
cpu_per_call(facade, 300)
ratios = []
for i in range(pairs):
    if i % 2:
        f = cpu_per_call(facade, block)
        e = cpu_per_call(ext, block)
    else:
        e = cpu_per_call(ext, block)
        f = cpu_per_call(facade, block)
    ratios.append(f / e)
print(statistics.median(ratios))
"""


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--schemes", default="http,https")
    p.add_argument("--processes", type=int, default=8)
    p.add_argument("--pairs", type=int, default=20)
    p.add_argument("--block", type=int, default=500)
    a = p.parse_args()
    with NginxServer() as srv:
        for scheme in a.schemes.split(","):
            ca = srv.ca_path if scheme == "https" else ""
            ratios, loads = [], []
            for _ in range(a.processes):
                loads.append(os.getloadavg()[0])
                r = subprocess.run([sys.executable, "-c", CHILD, HERE, srv.urls[scheme], ca, str(a.pairs),
                                    str(a.block)], capture_output=True, text=True)
                if r.returncode != 0:
                    raise SystemExit(f"{scheme}: the measuring process failed:\n{r.stderr[-2000:]}")
                ratios.append(float(r.stdout.strip().splitlines()[-1]))
            print(f"{scheme}: facade / ext CPU {statistics.median(ratios):.3f}x (median of {len(ratios)} processes, "
                  f"each the median of {a.pairs} pairs of {a.block}-call blocks; per process "
                  f"{min(ratios):.3f}-{max(ratios):.3f}x; load {min(loads):.1f}-{max(loads):.1f})", flush=True)


if __name__ == "__main__":
    sys.exit(main())
