"""Instructions per call of the facade's Python alone (callgrind), for A/B of changes to codat_platform_c.sdk.

    python bench/facade_python_cost.py [--tree PATH ...] [--calls 40000]

Over loopback (bench/instructions.py) the core's own count moves by a few thousand instructions per call from
one process to the next (how often libcurl polls before the answer is there depends on timing), which hides a
change of the facade of that size. Here no request is made: the facade's bound core call
(``_Calls.company_call``, what ``companies.get_access_token``'s common case calls; ``_Calls.client`` in
older trees) is replaced by a Python function that returns a copy of the core's usual answer, and the way
``ext`` calls that same function and reads ``["accessToken"]`` as bench/worker.py's ext does. Facade minus ext is then the facade's Python per call: the
request dict and keyword call the caller writes, the facade's own code, pydantic-core building the model, the
``.access_token`` read and the objects' deallocation. Each way runs under valgrind twice in a fresh process
(1,000 calls, then 1,000 + --calls), with PYTHONHASHSEED=0; the difference divided by --calls is per call.
``--tree`` (repeatable) imports codat_platform_c from another checkout (a ``git worktree`` or ``git archive``
copy with the extension built or copied in): A/B in one table.
"""
import argparse
import os
import re
import subprocess
import sys

CHILD = r"""
import sys
tree, way, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if tree:
    sys.path.insert(0, tree)
import codat_platform_c
from codat_platform_c.sdk import CodatPlatform
from codat_platform_c.sdk.models import shared
assert not tree or codat_platform_c.__file__.startswith(tree), codat_platform_c.__file__
ANSWER = {"accessToken": "tok-1-4d55a257f36a1ef5", "expiresIn": 86400, "tokenType": "Bearer"}


def core(company_id, _copy=ANSWER.copy):
    return _copy()


cp = CodatPlatform(security=shared.Security(auth_header="Basic eA=="), server_url="http://127.0.0.1:9")


class StandInClient:
    closed = False
    get_company_access_token = staticmethod(core)


cp._calls.client = StandInClient()  # (what trees before _Calls.company_call call)
if "company_call" in type(cp._calls).__slots__:
    cp._calls.company_call = core
get = cp.companies.get_access_token
if way == "ext":
    def call(cid):
        return core(cid)["accessToken"]
else:
    def call(cid):
        return get(request={"company_id": cid}).access_token
assert call("bench-company") == ANSWER["accessToken"]


def run():
    for _ in range(n):
        call("bench-company")


run()
"""
WARM = 1000


def instructions(tree, way, calls):
    r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", CHILD,
                        tree, way, str(calls)], capture_output=True, text=True,
                       env={**os.environ, "PYTHONHASHSEED": "0"})
    m = re.search(r"Collected : (\d+)", r.stderr)
    if r.returncode != 0 or not m:
        raise SystemExit(f"{way}: callgrind run failed:\n{r.stderr[-2000:]}")
    return int(m.group(1))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tree", action="append", default=[], help="a checkout to import codat_platform_c from")
    p.add_argument("--calls", type=int, default=40000)
    a = p.parse_args()
    print("| tree | ext (the stand-in call) | facade | the facade's Python per call |\n|---|---:|---:|---:|")
    for tree in a.tree or [""]:
        ext, facade = ((instructions(tree, way, WARM + a.calls) - instructions(tree, way, WARM)) / a.calls
                       for way in ("ext", "facade"))
        print(f"| {tree or 'installed'} | {ext:,.0f} | {facade:,.0f} | {facade - ext:,.0f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
