"""Paired A/B of the binding's per-call CPU as callgrind instruction counts (deterministic, unlike timings
on a shared machine): sequential keep-alive calls to nginx on loopback, counting only the instructions
inside the C method (and what it calls), for two checkouts with the extension built in place.

    python bench/callgrind_ab.py A_TREE B_TREE [N]     (e.g. a `git archive main` copy and this checkout)

Scenarios: plain (get_company_access_token(id), logging never imported), kwargs (timeout_ms= and
server_url= given, logging imported, so every call asks the logger), batch1 (get_access_tokens([id])).
Each run makes 50 warm-up calls then N; the count is divided by N + 50. Runs alternate A, B, A, B."""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server import NginxServer  # noqa: E402

CALLS = '''
import sys, warnings
url, scenario, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if scenario != "plain":
    import logging  # noqa: F401
import codat_platform_c as codat
warnings.simplefilter("ignore", DeprecationWarning)
with codat.Client(auth_header="Basic x", server_url=url, retries=None) as client:
    for _ in range(50):
        client.get_company_access_token("c1")
    for _ in range(n):
        if scenario == "plain":
            client.get_company_access_token("c1")
        elif scenario == "kwargs":
            client.get_company_access_token("c1", timeout_ms=5000, server_url=None)
        else:
            client.get_access_tokens(["c1"], endpoint="company")
'''
TOGGLE = {"plain": "*Client_get_company_access_token", "kwargs": "*Client_get_company_access_token",
          "batch1": "*Client_get_access_tokens"}


def instructions(tree, url, scenario, n, workdir):
    script = os.path.join(workdir, "calls.py")
    with open(script, "w") as f:
        f.write(CALLS)
    out = os.path.join(workdir, "callgrind.out")
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--collect-atstart=no",
                    f"--toggle-collect={TOGGLE[scenario]}", sys.executable, script, url, scenario, str(n)],
                   cwd=tree, env={**os.environ, "PYTHONPATH": tree}, check=True, capture_output=True)
    text = open(out).read()
    return int((re.search(r"^summary:\s+(\d+)", text, re.M) or re.search(r"^totals:\s+(\d+)", text, re.M))[1])


def main():
    a, b = (os.path.abspath(p) for p in sys.argv[1:3])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    with NginxServer() as srv, tempfile.TemporaryDirectory() as workdir:
        url = srv.urls["http"]
        for scenario in TOGGLE:
            runs = {a: [], b: []}
            for _ in range(2):
                for tree in (a, b):
                    runs[tree].append(instructions(tree, url, scenario, n, workdir))
            per_a, per_b = min(runs[a]) / (n + 50), min(runs[b]) / (n + 50)
            print(f"{scenario:7s} A {per_a:9.0f} instr/call  B {per_b:9.0f} instr/call  B/A {per_b / per_a:.3f}",
                  flush=True)


if __name__ == "__main__":
    main()
