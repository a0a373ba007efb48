"""What `import codat_platform_c` costs, and what its first use costs: the import itself is deferred (PEP
562), so the C extension and libcurl's dependency chain load only when Client (or an exception class) is
first touched. Each statement runs in a fresh `python -c`, interleaved, timed inside the process (wall
clock and this process's CPU time), medians over the rounds.

    python bench/import_cost.py [ROUNDS]      (default 31)
"""
import statistics
import subprocess
import sys

STATEMENTS = {
    "import codat_platform_c": "import codat_platform_c",
    "import + first use of Client": "import codat_platform_c; codat_platform_c.Client",
    "import + Client() made and closed": ("import codat_platform_c; "
                                          "codat_platform_c.Client(server_url='http://127.0.0.1:1').close()"),
}


def main(rounds=31):
    results = {name: ([], []) for name in STATEMENTS}
    for _ in range(rounds):
        for name, statement in STATEMENTS.items():
            code = ("import time as _t\n_c0 = _t.process_time(); _t0 = _t.perf_counter()\n" + statement +
                    "\nprint((_t.perf_counter() - _t0) * 1e3, (_t.process_time() - _c0) * 1e3)\n")
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            wall, cpu = map(float, out.stdout.split())
            results[name][0].append(wall)
            results[name][1].append(cpu)
    print(f"| statement | wall ms (median, min) | CPU ms (median, min) |  ({rounds} fresh processes each)")
    print("|---|---:|---:|")
    for name, (wall, cpu) in results.items():
        print(f"| `{name}` | {statistics.median(wall):.2f}, {min(wall):.2f} | "
              f"{statistics.median(cpu):.2f}, {min(cpu):.2f} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 31)
