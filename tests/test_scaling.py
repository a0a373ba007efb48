"""A pickled Client on real engines: multiprocessing (fork and spawn), concurrent.futures, a Dask
LocalCluster with 2 worker processes (10,000 tokens) and Ray, each fetching tokens from the stand-in server
over partitions of company ids. Every token must arrive, once: the stand-in records every request, so each
company is asked for exactly once and every token it issued comes back.

The Dask and Ray tests are left out under the sanitizer run (scripts/sanitize.sh sets CODAT_SANITIZED=1):
their helper processes (scheduler, nannies, raylet, GCS) would all start under the preloaded ASan runtime,
for minutes, and test no more of our C code than the multiprocessing tests, which do run there."""
import collections
import concurrent.futures
import multiprocessing
import os
import sys

import pytest

import codat_platform_c as codat
import scaling_workers
from conftest import AUTH

N_COMPANIES = 10_000  # the Dask test's, as a nightly sync would partition them
N_SMALL = 2_000  # the other engines': enough for several partitions per worker, and quick
N_PARTITIONS = 10

skip_under_asan = pytest.mark.skipif(os.environ.get("CODAT_SANITIZED") == "1",
                                     reason="Dask and Ray under ASan: slow, and nothing more of our C code")
# Python 3.12+ warns when a process with threads (the stand-in server's) forks; the children here only
# use the client they unpickle, never an inherited one.
fork_ok = pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")


@pytest.fixture
def company_ids():
    return [f"company-{i:05d}" for i in range(N_SMALL)]


@pytest.fixture
def many_company_ids():
    return [f"company-{i:05d}" for i in range(N_COMPANIES)]


def partitions(ids, n=N_PARTITIONS):
    size = -(-len(ids) // n)
    return [ids[i:i + size] for i in range(0, len(ids), size)]


@pytest.fixture
def warm_client(server):
    """A client that has used connections, a cache entry and rate-limit figures: none may travel."""
    with codat.Client(AUTH, server_url=server.url, cache=True, batch_concurrency=8) as client:
        client.get_company_access_token("warm-up")
        assert client.rate_limit is not None
        server.reset()
        yield client


def check_every_token_once(server, ids, results, expect_processes=None):
    """results: (pid, {company id: token}, client state before the call) from each partition."""
    tokens = {}
    for pid, part_tokens, before in results:
        assert pid != os.getpid(), "a partition ran in the test process, not in a worker"
        assert not before["closed"] and before["type"] == "Client"
        assert not tokens.keys() & part_tokens.keys(), "a company came back from two partitions"
        tokens.update(part_tokens)
    assert sorted(tokens) == sorted(ids)
    requests = server.requests
    per_company = collections.Counter(r.company_id for r in requests)
    assert len(requests) == len(ids) and set(per_company.values()) == {1}, "a company was asked for twice"
    assert sorted(tokens.values()) == sorted(server.tokens_issued), "a token went missing or was made up"
    assert len(set(tokens.values())) == len(ids)
    assert {r.headers.get("authorization") for r in requests} == {AUTH}
    pids = {pid for pid, _, _ in results}
    if expect_processes is not None:
        assert len(pids) == expect_processes, pids
    return pids


# ---- multiprocessing and concurrent.futures


@fork_ok
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocessing_pool_client_per_task(server, warm_client, company_ids, method):
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(2) as pool:
        results = pool.starmap(scaling_workers.fetch_partition,
                               [(warm_client, part) for part in partitions(company_ids)], chunksize=1)
    assert all(before["rate_limit"] is None for _, _, before in results), "rate-limit figures travelled"
    pids = check_every_token_once(server, company_ids, results)
    assert 1 <= len(pids) <= 2


def test_multiprocessing_pool_client_per_worker(server, warm_client, company_ids):
    # The client travels once per worker (initializer) and keeps its connections for every partition.
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2, initializer=scaling_workers.keep_client, initargs=(warm_client,)) as pool:
        results = pool.map(scaling_workers.fetch_with_kept_client, partitions(company_ids), chunksize=1)
    pids = check_every_token_once(server, company_ids, results)
    assert 1 <= len(pids) <= 2
    # One client per worker reuses its connections across partitions: a client per partition would open
    # batch_concurrency (8) for each of them.
    assert server.connections_opened < N_PARTITIONS * 8 / 2


@fork_ok
def test_process_pool_executor(server, warm_client, company_ids):
    parts = partitions(company_ids)
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        results = list(pool.map(scaling_workers.fetch_partition, [warm_client] * len(parts), parts))
    check_every_token_once(server, company_ids, results)


def test_process_pool_executor_spawn_with_subclass(server, company_ids):
    with scaling_workers.Gentle(AUTH, server_url=server.url) as client:
        parts = partitions(company_ids, 4)
        with concurrent.futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(scaling_workers.fetch_partition, [client] * len(parts), parts))
    assert {before["type"] for _, _, before in results} == {"Gentle"}
    assert {before["limit"] for _, _, before in results} == {3}
    tokens = {cid: tok for _, part, _ in results for cid, tok in part.items()}
    assert sorted(tokens) == sorted(company_ids) and len(server.requests) == len(company_ids)


# ---- Dask


@pytest.fixture(scope="module")
def dask_cluster():
    import logging

    from dask.distributed import Client as DaskClient
    from dask.distributed import LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", scheduler_port=0,
                      dashboard_address=None, worker_dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, DaskClient(cluster) as dask_client:
        yield dask_client


@skip_under_asan
def test_dask_two_workers_scattered_client(server, warm_client, many_company_ids, dask_cluster):
    # The recommended pattern: the client travels once to each worker (scatter, broadcast) and every
    # partition on that worker uses it. Partitions alternate between the two worker processes.
    workers = sorted(dask_cluster.scheduler_info()["workers"])
    assert len(workers) == 2
    remote_client = dask_cluster.scatter(warm_client, broadcast=True, hash=False)
    futures = [dask_cluster.submit(scaling_workers.fetch_partition, remote_client, part, pure=False,
                                   workers=[workers[i % 2]], allow_other_workers=False)
               for i, part in enumerate(partitions(many_company_ids))]
    results = dask_cluster.gather(futures)
    check_every_token_once(server, many_company_ids, results, expect_processes=2)
    assert server.connections_opened < N_PARTITIONS * 8 / 2  # one client per worker, as above


@skip_under_asan
def test_dask_bag_map_partitions(server, warm_client, company_ids, dask_cluster):
    # The client as a plain argument of the graph: each task unpickles its own fresh copy.
    import dask.bag
    bag = dask.bag.from_sequence(company_ids, npartitions=N_PARTITIONS)
    results = bag.map_partitions(scaling_workers.fetch_bag_partition, warm_client).compute()
    results = [tuple(r) for r in results]
    assert all(before["rate_limit"] is None for _, _, before in results)
    check_every_token_once(server, company_ids, results)


# ---- Ray


@pytest.fixture(scope="module")
def ray_local():
    # On Linux Ray binds its servers to every interface and advertises the machine's own address; this
    # (Ray's switch for single-machine use, read when ray is imported) keeps them all on 127.0.0.1, as
    # every server in these tests.
    saved = os.environ.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    try:
        ray = pytest.importorskip("ray", reason="ray is not installed (see docs/scaling.md)")
        ray._private.ray_constants.ENABLE_RAY_CLUSTER = False  # in case ray was imported before
        tests_dir = os.path.dirname(os.path.abspath(__file__))
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
                 runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([tests_dir] + sys.path[1:]),
                                           "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}})
        try:
            assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
            yield ray
        finally:
            ray.shutdown()
    finally:
        if saved is None:
            del os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"]
        else:
            os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = saved


@skip_under_asan
def test_ray_tasks(server, warm_client, company_ids, ray_local):
    ray = ray_local
    client_ref = ray.put(warm_client)
    fetch = ray.remote(num_cpus=1)(scaling_workers.fetch_partition)
    results = ray.get([fetch.remote(client_ref, part) for part in partitions(company_ids)])
    pids = check_every_token_once(server, company_ids, results)
    assert 1 <= len(pids) <= 2
