"""Instructions per call (callgrind), for the ratios that timings on a shared 2-core machine cannot settle.

    python bench/instructions.py [--ways ext,facade,await] [--schemes http,https] [--calls 1000]

Each way runs twice under valgrind --tool=callgrind in a fresh process against the same loopback nginx
(bench/server.py), once with 200 calls and once with 200 + --calls; the difference divided by --calls is the
client's instructions per call, free of timing noise and of warm-up (nginx is another process: not counted).
Ways: ext (the blocking `Client.get_company_access_token`), facade (`codat_platform_c.sdk`'s
`companies.get_access_token`, worker.py's contender), await (sequential awaits of
`get_company_access_token_async` on one asyncio loop). The table gives each way against ext: the targets
"facade at most 1.15x the core" (issue 12) and "an await at most 1.5x a blocking call" (issue 13).
Instructions are not time (cache misses, syscalls' kernel side are not in them); bench.py's CPU columns
measure time, and this table is their noise-free companion.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from server import NginxServer  # noqa: E402

WARM = 200
CHILD = r"""
import asyncio, sys, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, sys.argv[1])
import worker
way, url, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
ca = sys.argv[5] if len(sys.argv) > 5 else None
if way == "await":
    import codat_platform_c as codat
    client = codat.Client(auth_header=worker.AUTH, server_url=url, verify=ca if ca else True)
    get = client.get_company_access_token_async
    async def run(k):
        for _ in range(k):
            (await get(worker.CID))["accessToken"]
    asyncio.run(run(n))
else:
    call, _ = worker.MAKERS[way](url, ca)
    for _ in range(n):
        call(worker.CID)
"""
TARGETS = {"facade": 1.15, "await": 1.5}


def instructions(python, way, url, ca, calls):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", python, "-c", CHILD, HERE, way,
               url, str(calls)] + ([ca] if ca else [])
        r = subprocess.run(cmd, capture_output=True, text=True)
    m = re.search(r"Collected : (\d+)", r.stderr)
    if r.returncode != 0 or not m:
        raise SystemExit(f"{way}: callgrind run failed:\n{r.stderr[-2000:]}")
    return int(m.group(1))


def per_call(python, way, url, ca, calls):
    return (instructions(python, way, url, ca, WARM + calls) - instructions(python, way, url, ca, WARM)) / calls


def table(rows):
    lines = ["| scheme | way | instructions per call | × ext | goal | |", "|---|---|---:|---:|---:|---|"]
    for scheme, way, ir, ratio in rows:
        goal = TARGETS.get(way)
        verdict = "" if goal is None else ("**pass**" if ratio <= goal else "**miss**")
        lines.append(f"| {scheme} | {way} | {ir:,.0f} | {ratio:.3f}× | {'' if goal is None else f'≤ {goal}×'} | {verdict} |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ways", default="ext,facade,await")
    p.add_argument("--schemes", default="http,https")
    p.add_argument("--calls", type=int, default=1000)
    a = p.parse_args()
    ways = [w for w in a.ways.split(",") if w != "ext"]
    rows = []
    with NginxServer() as srv:
        for scheme in a.schemes.split(","):
            ca = srv.ca_path if scheme == "https" else None
            base = per_call(sys.executable, "ext", srv.urls[scheme], ca, a.calls)
            rows.append((scheme, "ext", base, 1.0))
            for way in ways:
                ir = per_call(sys.executable, way, srv.urls[scheme], ca, a.calls)
                rows.append((scheme, way, ir, ir / base))
                print(f"{scheme} {way}: {ir:,.0f} instructions per call ({ir / base:.3f}x ext)", file=sys.stderr)
    print(table(rows))
    return 1 if any(TARGETS.get(w, 99) < r for _, w, _, r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
