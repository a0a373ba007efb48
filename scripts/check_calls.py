#!/usr/bin/env python3
"""Calls between the C core's files go one way (issue 13): client -> scheduler -> attempt -> pure modules.

    python3 scripts/check_calls.py [-v]

Compiles each csrc/core/*.c on its own (cc -c, into a temporary directory), reads which file defines and
which uses each external symbol (nm), and fails if the file-level call graph has a cycle. -v prints the
graph. Needs cc, nm and pkg-config's libcurl and libcjson flags (as the build does).
"""
import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "csrc" / "core"


def symbols(obj):
    defined, used = set(), set()
    for line in subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBR":
            defined.add(parts[2])
        elif len(parts) == 2 and parts[0] == "U":
            used.add(parts[1])
    return defined, used


def graph():
    cflags = subprocess.run(["pkg-config", "--cflags", "libcurl", "libcjson"], capture_output=True,
                            text=True).stdout.split()
    # No core file should need Python.h; should one ever include it, the check still compiles it.
    cflags.append("-I" + sysconfig.get_paths()["include"])
    defs, uses = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for src in sorted(CORE.glob("*.c")):
            obj = os.path.join(tmp, src.stem + ".o")
            subprocess.run([os.environ.get("CC", "cc"), "-std=c11", "-D_GNU_SOURCE", *cflags, "-c", str(src),
                            "-o", obj], check=True)
            defs[src.stem], uses[src.stem] = symbols(obj)
    owner = {sym: name for name, syms in defs.items() for sym in syms}
    return {name: sorted({owner[s] for s in uses[name] if s in owner and owner[s] != name}) for name in defs}


def find_cycle(g):
    state, stack = {}, []

    def visit(u):
        state[u] = 1
        stack.append(u)
        for v in g[u]:
            if state.get(v) == 1:
                return stack[stack.index(v):] + [v]
            if not state.get(v):
                found = visit(v)
                if found:
                    return found
        stack.pop()
        state[u] = 2
        return None

    for u in g:
        if not state.get(u):
            found = visit(u)
            if found:
                return found
    return None


def main():
    g = graph()
    if "-v" in sys.argv[1:]:
        for name in sorted(g):
            print(f"{name}.c -> {', '.join(v + '.c' for v in g[name]) or '(nothing)'}")
    cycle = find_cycle(g)
    if cycle:
        print("check_calls: a call cycle between core files: " + " -> ".join(c + ".c" for c in cycle))
        return 1
    print(f"check_calls: {len(g)} core files, no call cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
