"""Scaling benchmark: 10,000 tokens from one process, from 2 Dask workers and from a 2-process pool.

    python bench/scaling_bench.py [--n 10000] [--rounds 5] [--listeners http,delay] [--out PREFIX]

Against nginx on loopback (bench/server.py: `http` answers at once, `delay` holds every answer 1 ms,
a stand-in for a server that takes time). Contenders, each given a fresh Client every round (so every
one of them opens its connections inside the timed part, as a worker handed a pickled client does):

  1 process       client.get_access_tokens(ids, concurrency=C) in this process
  Dask 2 workers  a dask.distributed LocalCluster (2 worker processes, 1 thread each, started before the
                  timing): the client and one half of the ids submitted to each worker, which calls
                  get_access_tokens(half) with batch_concurrency=C/2 or C
  pool 2 procs    multiprocessing.Pool(2) (spawn, started before the timing): the same two halves through
                  pool.starmap

Each contender checks every answer (the expected token for every company) and the workers send back
only their counts, as a sync that uses each token where it got it would. The clock runs from "ids and
client in hand" to "every count back". Rounds rotate the contenders' order; the table gives medians of
tokens per second and each one's median ratio to the 1-process row of the same round (paired, so that
the drift of a shared machine cancels out), and the median CPU seconds each used: on the client side
(this process, which also runs Dask's scheduler, plus every worker process, idle or not) and in nginx's
worker. Prints Markdown on stdout, progress on stderr, and writes
PREFIX.md and PREFIX.json (default bench/scaling_results; --out "" writes nothing).

Needs nginx with the echo module (bench/server.py) and dask[distributed] (requirements-test.txt).
"""
from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import codat_platform_c as codat  # noqa: E402
from server import TOKEN, NginxServer, nginx_version  # noqa: E402

AUTH = "Basic YmVuY2g="


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def fetch_count(client, company_ids):
    """In a worker: fetch a partition with the pickled client, check every answer, return the count."""
    tokens = client.get_access_tokens(company_ids)
    bad = [cid for cid, value in tokens.items() if isinstance(value, BaseException) or value["accessToken"] != TOKEN]
    if bad or len(tokens) != len(company_ids):
        raise RuntimeError(f"{len(bad)} bad answers, {len(tokens)} of {len(company_ids)} companies")
    return len(tokens)


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pids):
    """User + system CPU seconds used so far by these processes (from /proc)."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


def children(pid):
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            out += [int(c) for c in f.read().split()]
    return out


def halves(ids):
    mid = len(ids) // 2
    return [ids[:mid], ids[mid:]]


def run_one_process(url, ids, concurrency, engines):
    client = codat.Client(AUTH, server_url=url, batch_concurrency=concurrency)
    start = time.perf_counter()
    count = fetch_count(client, ids)
    elapsed = time.perf_counter() - start
    client.close()
    return count, elapsed


def run_dask(url, ids, per_worker, engines):
    dask_client, workers = engines["dask"]
    client = codat.Client(AUTH, server_url=url, batch_concurrency=per_worker)
    start = time.perf_counter()
    futures = [dask_client.submit(fetch_count, client, part, pure=False, workers=[worker],
                                  allow_other_workers=False)
               for worker, part in zip(workers, halves(ids))]
    count = sum(dask_client.gather(futures))
    elapsed = time.perf_counter() - start
    client.close()
    return count, elapsed


def run_pool(url, ids, per_worker, engines):
    pool = engines["pool"]
    client = codat.Client(AUTH, server_url=url, batch_concurrency=per_worker)
    start = time.perf_counter()
    count = sum(pool.starmap(fetch_count, [(client, part) for part in halves(ids)], chunksize=1))
    elapsed = time.perf_counter() - start
    client.close()
    return count, elapsed


CONTENDERS = [
    # (name, runner, total in flight, per-process concurrency)
    ("1 process, concurrency 16", run_one_process, 16, 16),
    ("1 process, concurrency 32", run_one_process, 32, 32),
    ("Dask 2 workers x 8", run_dask, 16, 8),
    ("Dask 2 workers x 16", run_dask, 32, 16),
    ("pool 2 procs x 8", run_pool, 16, 8),
    ("pool 2 procs x 16", run_pool, 32, 16),
]


def start_engines():
    from dask.distributed import Client as DaskClient
    from dask.distributed import LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", scheduler_port=0,
                           dashboard_address=None, worker_dashboard_address=None, silence_logs=logging.ERROR)
    dask_client = DaskClient(cluster)
    workers = sorted(dask_client.scheduler_info()["workers"])
    pool = multiprocessing.get_context("spawn").Pool(2)
    dask_pids = list(dask_client.run(os.getpid).values())
    pool_pids = [p.pid for p in pool._pool]
    return {"dask": (dask_client, workers), "pool": pool, "_cluster": cluster, "worker_pids": dask_pids + pool_pids}


def stop_engines(engines):
    engines["pool"].close()
    engines["pool"].join()
    engines["dask"][0].close()
    engines["_cluster"].close()


def measure(url, n, rounds, engines):
    ids = [f"company-{i:06d}" for i in range(n)]
    for name, runner, _, per in CONTENDERS:  # warm-up: imports in the workers, nginx's first connections
        runner(url, ids[:2000], per, engines)
    # Client side: this process (which also runs Dask's scheduler and nannies) and every worker process;
    # server side: nginx's worker.
    client_pids = [os.getpid()] + engines["worker_pids"]
    server_pids = engines["server_pids"]
    per_round = []
    cpu = {name: [] for name, _, _, _ in CONTENDERS}
    for r in range(rounds):
        order = CONTENDERS[r % len(CONTENDERS):] + CONTENDERS[:r % len(CONTENDERS)]
        row = {}
        for name, runner, _, per in order:
            client_before, server_before = cpu_s(client_pids), cpu_s(server_pids)
            count, elapsed = runner(url, ids, per, engines)
            cpu[name].append((cpu_s(client_pids) - client_before, cpu_s(server_pids) - server_before))
            assert count == n, (name, count)
            row[name] = n / elapsed
        per_round.append(row)
        log(f"  round {r + 1}/{rounds}: " + ", ".join(f"{k}: {v:,.0f}/s" for k, v in row.items()))
    base = CONTENDERS[0][0]
    out = []
    for name, _, total, per in CONTENDERS:
        rates = [row[name] for row in per_round]
        ratios = [row[name] / row[base] for row in per_round]
        out.append({"name": name, "in_flight": total, "per_process": per, "tokens_per_s": statistics.median(rates),
                    "ratio_to_1_process": statistics.median(ratios), "rounds": rates,
                    "client_cpu_s": statistics.median(c for c, _ in cpu[name]),
                    "server_cpu_s": statistics.median(s for _, s in cpu[name])})
    return out


def machine_line():
    import dask
    return (f"{os.cpu_count()} CPUs ({platform.machine()}), Python {platform.python_version()}, "
            f"codat_platform_c {codat.__version__} ({codat.LIBCURL_VERSION}), dask {dask.__version__}, "
            f"nginx {nginx_version()} (1 worker process), load {os.getloadavg()[0]:.2f} at the start, "
            f"{time.strftime('%Y-%m-%d %H:%M')}")


def markdown(results, n, rounds, machine):
    lines = [f"{n:,} tokens, median of {rounds} rounds. {machine}", ""]
    for listener, rows in results.items():
        what = "answers at once" if listener == "http" else "every answer held 1 ms"
        lines += [f"nginx `{listener}` listener ({what}):", "",
                  "| contender | in flight (total) | tokens/s (median) | vs 1 process, conc. 16 (paired median) "
                  "| client CPU s | nginx CPU s |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for row in rows:
            lines.append(f"| {row['name']} | {row['in_flight']} | {row['tokens_per_s']:,.0f} | "
                         f"{row['ratio_to_1_process']:.2f}x | {row['client_cpu_s']:.2f} | {row['server_cpu_s']:.2f} |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--listeners", default="http,delay")
    parser.add_argument("--out", default=os.path.join(HERE, "scaling_results"))
    args = parser.parse_args(argv)
    machine = machine_line()
    results = {}
    with NginxServer() as srv:
        engines = start_engines()
        engines["server_pids"] = children(srv.proc.pid)
        try:
            for listener in args.listeners.split(","):
                log(f"{listener}: {args.n:,} tokens x {args.rounds} rounds")
                results[listener] = measure(srv.urls[listener], args.n, args.rounds, engines)
        finally:
            stop_engines(engines)
    text = markdown(results, args.n, args.rounds, machine)
    print(text)
    if args.out:
        with open(args.out + ".md", "w") as f:
            f.write(text + "\n")
        with open(args.out + ".json", "w") as f:
            json.dump({"machine": machine, "n": args.n, "rounds": args.rounds, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
