"""Per-call cost and import time: the binary wheel (scripts/wheel.sh) against the source build, side by side.

    python bench/wheel_bench.py WHEEL_PYTHON SOURCE_PYTHON [rounds]

WHEEL_PYTHON: a venv's python with the wheel installed; SOURCE_PYTHON: one with the package built from source
(against Debian's libcurl). Same CPython version for both. Against nginx on loopback (bench/server.py), the
two alternate, round after round, each round a fresh process making CALLS sequential calls on one client
over HTTP and then HTTPS (keep-alive); the ratio of each round's pair is kept and the median reported, so
that the machine's load drifts out; both wall time and the process's CPU time per call (steadier when
the machine is shared). Import time: median of `python -X importtime` for codat_platform_c._core.
"""
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server import NginxServer  # noqa: E402

CALLS = 2000
WORKER = r"""
import sys, time
import codat_platform_c as codat
url, ca, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
with codat.Client(auth_header="Basic QVBJX0tFWQ==", server_url=url, verify=ca) as client:
    for _ in range(50):
        client.get_company_access_token("warm-up")
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(calls):
        client.get_company_access_token("8a210b68")
    print((time.perf_counter() - start) / calls * 1e6, (time.process_time() - cpu_start) / calls * 1e6)
"""


def per_call_us(python, url, ca):
    out = subprocess.run([python, "-c", WORKER, url, ca, str(CALLS)], cwd="/", check=True,
                         capture_output=True, text=True)
    wall, cpu = out.stdout.split()
    return float(wall), float(cpu)


def import_us(python):
    r = subprocess.run([python, "-X", "importtime", "-c", "import codat_platform_c._core"], cwd="/",
                       check=True, capture_output=True, text=True)
    # "import time: self [us] | cumulative | name": the cumulative time of the extension module.
    line = next(x for x in r.stderr.splitlines() if x.rstrip().endswith("codat_platform_c._core"))
    return int(line.split("|")[1])


def main():
    wheel_py, source_py = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 9
    with NginxServer() as srv:
        for scheme in ("http", "https"):
            pairs = [(per_call_us(wheel_py, srv.urls[scheme], srv.ca_path),
                      per_call_us(source_py, srv.urls[scheme], srv.ca_path)) for _ in range(rounds)]
            for i, what in ((0, "wall"), (1, "CPU")):
                wheel = [w[i] for w, _ in pairs]
                source = [s[i] for _, s in pairs]
                ratios = [w[i] / s[i] for w, s in pairs]
                print(f"{scheme} {what}: wheel {statistics.median(wheel):.1f} us/call, source "
                      f"{statistics.median(source):.1f} us/call, median paired ratio wheel/source "
                      f"{statistics.median(ratios):.3f} (IQR {statistics.quantiles(ratios)[0]:.3f}-"
                      f"{statistics.quantiles(ratios)[2]:.3f}, {rounds} rounds x {CALLS} calls)")
    for name, py in (("wheel", wheel_py), ("source", source_py)):
        times = [import_us(py) for _ in range(15)]
        print(f"import codat_platform_c._core from the {name}: median {statistics.median(times) / 1000:.1f} ms")


if __name__ == "__main__":
    main()
