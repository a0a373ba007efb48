"""What tests/test_scaling.py runs inside worker processes. Module-level, so that pickle (multiprocessing,
concurrent.futures) and cloudpickle (Dask, Ray) send the functions by name; each worker imports this
module from the test process's sys.path."""
import os

import codat_platform_c as codat

_worker_client = None


def fetch_partition(client, company_ids):
    """One partition in a worker: the client arrived pickled. Returns (worker pid, {company id: token},
    how the client looked before the call)."""
    before = {"rate_limit": client.rate_limit, "closed": client.closed, "type": type(client).__name__,
              "limit": client.company_concurrency_limit}
    tokens = {}
    for company_id, value in client.get_access_tokens(company_ids).items():
        if isinstance(value, BaseException):
            raise RuntimeError(f"{company_id}: {value!r}")
        tokens[company_id] = value["accessToken"]
    return os.getpid(), tokens, before


def keep_client(client):
    """Pool initializer: the client travels once per worker process and serves all its partitions."""
    global _worker_client
    _worker_client = client


def fetch_with_kept_client(company_ids):
    return fetch_partition(_worker_client, company_ids)


def fetch_bag_partition(company_ids, client):
    """dask.bag.map_partitions: one partition in, a one-item partition out."""
    return [fetch_partition(client, list(company_ids))]


class Gentle(codat.Client):
    """A subclass that travels by reference: the worker imports it from here."""
    company_concurrency_limit = 3
