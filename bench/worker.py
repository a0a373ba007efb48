"""One measurement of one contender, in its own process, printed as one JSON line.

    python bench/worker.py CONTENDER SCENARIO --url BASE [--ca PATH] [--n N] [--threads T] ...

Run by bench/bench.py in a fresh subprocess per measurement, so getrusage(RUSAGE_SELF)
and RSS belong to that contender alone. Contenders:

  ext        codat_platform_c.Client(...).get_access_token(cid)       (this project)
  sdk        codat_platform.CodatPlatform(...)  default HTTP stack     (official SDK)
             for HTTPS the CA bundle is given through SSL_CERT_FILE, the standard knob
  sdk-httpx  codat_platform.CodatPlatform(..., client=httpx.Client(verify=CA))
  httpx      httpx.Client().get(url) + resp.json() by hand
  requests   requests.Session().get(url) + resp.json() by hand
  pycurl     one kept pycurl.Curl handle (one per thread) + json.loads by hand

Scenarios:

  check      one call; prints the token and versions
  seq        WARMUP calls, then N sequential calls in BLOCKS blocks: elapsed and CPU
             microseconds per call of the median block
  threads    T threads share one client, N calls in all: calls per second
  mem        RSS after import, after one call, and growth over N calls after WARMUP more
  batch      the "1,000 tokens concurrently" hook: N tokens, concurrency C (see --help)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import threading
import time

import warnings

AUTH = "Basic QVBJX0tFWQ=="
CID = "8a210b68-6988-11ed-a1eb-0242ac120002"
CONTENDERS = ("ext", "facade", "sdk", "sdk-httpx", "httpx", "requests", "pycurl")
PAGE = os.sysconf("SC_PAGE_SIZE")

warnings.simplefilter("ignore")  # the SDK marks .get deprecated; printing that would cost time


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def token_url(base: str, cid: str) -> str:
    # Codat's live endpoint (the connection-management one was retired on 2026-10-12)
    return f"{base}/companies/{cid}/accessToken"


class NotAvailable(Exception):
    """The contender cannot run here (e.g. the extension is not built)."""


# --------------------------------------------------------------------------- contenders
# make(base, ca) -> (call, info); call(cid) returns the token string, raising on anything
# but HTTP 200 with a JSON body; info is a dict of versions for the report.


def make_ext(base, ca):
    try:
        import codat_platform_c as codat
    except Exception as e:  # not built yet, or broken
        raise NotAvailable(f"not built ({type(e).__name__}: {e})")
    if not hasattr(codat, "Client"):
        raise NotAvailable("not built (codat_platform_c has no Client)")
    c = codat.Client(auth_header=AUTH, server_url=base, verify=ca if ca else True)
    get = c.get_company_access_token

    def call(cid):
        return get(cid)["accessToken"]

    call.client = c
    return call, {"version": getattr(codat, "__version__", "?")}


def make_facade(base, ca):
    """codat_platform_c.sdk: the official SDK's call shape and pydantic models, on the C client."""
    try:
        from codat_platform_c.sdk import CodatPlatform
        from codat_platform_c.sdk.models import shared
    except Exception as e:
        raise NotAvailable(f"codat_platform_c.sdk not importable ({type(e).__name__}: {e})")
    cp = CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=base, verify=ca if ca else True)
    get = cp.companies.get_access_token

    def call(cid):
        return get(request={"company_id": cid}).access_token

    call.client = cp
    return call, {"version": getattr(cp._client, "__class__").__module__, "method": "companies.get_access_token"}


def _sdk_method(cp):
    """The company token call (Codat's live endpoint)."""
    if hasattr(cp.companies, "get_access_token"):
        return cp.companies.get_access_token, "get_access_token"
    raise NotAvailable("codat_platform has no companies.get_access_token")


def _sdk_version():
    try:
        from importlib.metadata import version

        return version("codat-platform")
    except Exception:
        return "?"


def make_sdk(base, ca, use_httpx=False):
    from codat_platform import CodatPlatform
    from codat_platform.models import shared

    kw = {}
    if use_httpx:
        import httpx

        kw["client"] = httpx.Client(verify=ca if ca else True)
    cp = CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=base, **kw)
    meth, name = _sdk_method(cp)

    def call(cid):
        return meth(request={"company_id": cid}).access_token

    call.client = cp
    return call, {"version": _sdk_version(), "method": f"companies.{name}"}


def make_sdk_httpx(base, ca):
    return make_sdk(base, ca, use_httpx=True)


def make_httpx(base, ca):
    import httpx

    client = httpx.Client(verify=ca if ca else True, headers={"Authorization": AUTH, "Accept": "application/json"})

    def call(cid):
        r = client.get(token_url(base, cid))
        if r.status_code != 200:
            raise RuntimeError(f"HTTP {r.status_code}")
        return r.json()["accessToken"]

    return call, {"version": httpx.__version__}


def make_requests(base, ca):
    import requests

    s = requests.Session()
    s.headers.update({"Authorization": AUTH, "Accept": "application/json"})
    verify = ca if ca else True

    def call(cid):
        r = s.get(token_url(base, cid), verify=verify)
        if r.status_code != 200:
            raise RuntimeError(f"HTTP {r.status_code}")
        return r.json()["accessToken"]

    return call, {"version": requests.__version__}


def make_pycurl(base, ca):
    import io

    import pycurl

    local = threading.local()  # a pycurl handle must not be used by two threads at once

    def handle():
        h = getattr(local, "h", None)
        if h is None:
            h = pycurl.Curl()
            h.setopt(pycurl.HTTPHEADER, [f"Authorization: {AUTH}", "Accept: application/json"])
            h.setopt(pycurl.NOSIGNAL, 1)
            h.setopt(pycurl.TCP_NODELAY, 1)
            if ca:
                h.setopt(pycurl.CAINFO, ca)
            local.h = h
        return h

    def call(cid):
        h = handle()
        buf = io.BytesIO()
        h.setopt(pycurl.URL, token_url(base, cid))
        h.setopt(pycurl.WRITEDATA, buf)
        h.perform()
        status = h.getinfo(pycurl.RESPONSE_CODE)
        if status != 200:
            raise RuntimeError(f"HTTP {status}")
        return json.loads(buf.getvalue())["accessToken"]

    return call, {"version": pycurl.version}


MAKERS = {
    "ext": make_ext,
    "facade": make_facade,
    "sdk": make_sdk,
    "sdk-httpx": make_sdk_httpx,
    "httpx": make_httpx,
    "requests": make_requests,
    "pycurl": make_pycurl,
}


# --------------------------------------------------------------------------- scenarios


def scen_check(call, a):
    return {"token": call(CID)}


def scen_seq(call, a):
    for _ in range(a.warmup):
        call(CID)
    blocks = max(1, min(a.blocks, a.n))
    per = a.n // blocks
    walls, cpus = [], []
    for _ in range(blocks):
        c0, t0 = cpu_s(), time.perf_counter()
        for _ in range(per):
            call(CID)
        t1, c1 = time.perf_counter(), cpu_s()
        walls.append((t1 - t0) / per * 1e6)
        cpus.append((c1 - c0) / per * 1e6)
    walls.sort()
    cpus.sort()
    return {
        "calls": per * blocks,
        "blocks": blocks,
        # the median block: robust to a burst of other load during one block
        "elapsed_us_per_call": statistics.median(walls),
        "cpu_us_per_call": statistics.median(cpus),
        "mean_elapsed_us_per_call": sum(walls) / blocks,
        "token": call(CID),
    }


def scen_threads(call, a):
    t = a.threads
    per = [a.n // t + (1 if i < a.n % t else 0) for i in range(t)]
    errors = []
    barrier = threading.Barrier(t + 1)

    def run(k):
        try:
            for _ in range(a.warmup):  # each thread opens/keeps its connection first
                call(CID)
            barrier.wait()
            for _ in range(k):
                call(CID)
        except Exception as e:  # report, don't hang the barrier
            errors.append(repr(e))
            try:
                barrier.abort()
            except Exception:
                pass

    ths = [threading.Thread(target=run, args=(k,)) for k in per]
    for th in ths:
        th.start()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass
    c0, t0 = cpu_s(), time.perf_counter()
    for th in ths:
        th.join()
    t1, c1 = time.perf_counter(), cpu_s()
    if errors:
        raise RuntimeError(errors[0])
    return {
        "calls": a.n,
        "threads": t,
        "calls_per_s": a.n / (t1 - t0),
        "cpu_us_per_call": (c1 - c0) / a.n * 1e6,
        "token": call(CID),
    }


def scen_mem(call, a, rss_import):
    call(CID)
    rss_one = rss_bytes()
    for _ in range(a.warmup):
        call(CID)
    rss_warm = rss_bytes()
    for _ in range(a.n):
        call(CID)
    rss_end = rss_bytes()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "calls": a.n,
        "warmup": a.warmup,
        "rss_import_kb": rss_import / 1024,
        "rss_one_call_kb": rss_one / 1024,
        "rss_after_warmup_kb": rss_warm / 1024,
        "rss_end_kb": rss_end / 1024,
        "growth_kb": (rss_end - rss_warm) / 1024,
        "maxrss_kb": ru.ru_maxrss,
        "token": call(CID),
    }


def scen_batch(contender, call, a):
    """The '1,000 tokens concurrently' hook. Runs only what exists; says what it skipped."""
    import asyncio

    ids = [f"company-{i:05d}" for i in range(a.n)]
    conc = a.concurrency
    out = {"calls": a.n, "concurrency": conc, "variants": {}}

    def timed(label, fn):
        t0, c0 = time.perf_counter(), cpu_s()
        toks = fn()
        t1, c1 = time.perf_counter(), cpu_s()
        if len(toks) != a.n or any(not x for x in toks):
            raise RuntimeError(f"{label}: got {len(toks)} tokens for {a.n} ids")
        out["variants"][label] = {"ms": (t1 - t0) * 1e3, "tokens_per_s": a.n / (t1 - t0),
                                  "cpu_us_per_call": (c1 - c0) / a.n * 1e6}

    async def gather_sem(coro_for):
        sem = asyncio.Semaphore(conc)

        async def one(cid):
            async with sem:
                return await coro_for(cid)

        return await asyncio.gather(*(one(i) for i in ids))

    def tok(r):
        if isinstance(r, dict):
            return r.get("accessToken")
        return getattr(r, "access_token", None) or getattr(r, "accessToken", None)

    if contender == "ext":
        c = call.client
        have = False
        if hasattr(c, "get_access_tokens"):
            have = True
            def batch():
                r = c.get_access_tokens(ids, concurrency=conc)
                # {company_id: token dict or the exception its call raised}; a list is taken too
                vals = [r.get(i) for i in ids] if isinstance(r, dict) else list(r)
                return [tok(v) for v in vals]

            timed("get_access_tokens", batch)
        if hasattr(c, "get_access_token_async"):
            have = True
            timed("asyncio.gather(get_access_token_async)",
                  lambda: [tok(r) for r in asyncio.run(gather_sem(c.get_access_token_async))])
        if not have:
            raise NotAvailable("no get_access_tokens / get_access_token_async yet")
    elif contender in ("sdk", "sdk-httpx"):
        cm = call.client.connection_management
        name = "get_access_token_async" if hasattr(cm, "get_access_token_async") else "get_async"
        meth = getattr(cm, name)
        timed(f"asyncio.gather({name})",
              lambda: [tok(r) for r in asyncio.run(gather_sem(lambda cid: meth(request={"company_id": cid})))])
    elif contender == "httpx":
        import httpx

        async def run_httpx():
            limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
            async with httpx.AsyncClient(verify=a.ca or True, limits=limits,
                                         headers={"Authorization": AUTH, "Accept": "application/json"}) as ac:
                async def one(cid):
                    r = await ac.get(token_url(a.url, cid))
                    r.raise_for_status()
                    return r.json()

                return await gather_sem(one)

        timed("httpx.AsyncClient+gather", lambda: [tok(r) for r in asyncio.run(run_httpx())])
    else:
        raise NotAvailable("no async path for this contender")
    out["token"] = call(CID)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("contender", choices=CONTENDERS)
    p.add_argument("scenario", choices=("check", "seq", "threads", "mem", "batch"))
    p.add_argument("--url", required=True, help="server base URL, e.g. http://127.0.0.1:8080")
    p.add_argument("--ca", default="", help="CA bundle path for https")
    p.add_argument("--n", type=int, default=1000, help="measured calls")
    p.add_argument("--warmup", type=int, default=200, help="unmeasured calls first (per thread for threads)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--blocks", type=int, default=10, help="seq: time N calls in this many blocks, report the median")
    p.add_argument("--concurrency", type=int, default=16)
    a = p.parse_args(argv)

    if a.contender == "sdk" and a.ca:
        # The SDK's default stack (urllib3) has no verify= knob on CodatPlatform; the standard
        # OpenSSL variable is the public way to trust a private CA. Set before anything loads certs.
        os.environ["SSL_CERT_FILE"] = a.ca

    result = {"contender": a.contender, "scenario": a.scenario, "ok": False}
    try:
        rss_before = rss_bytes()
        call, info = MAKERS[a.contender](a.url, a.ca)
        rss_import = rss_bytes()
        result["info"] = info
        result["rss_before_import_kb"] = rss_before / 1024
        if a.scenario == "check":
            result.update(scen_check(call, a))
        elif a.scenario == "seq":
            result.update(scen_seq(call, a))
        elif a.scenario == "threads":
            result.update(scen_threads(call, a))
        elif a.scenario == "mem":
            result.update(scen_mem(call, a, rss_import))
        elif a.scenario == "batch":
            result.update(scen_batch(a.contender, call, a))
        result["ok"] = True
    except NotAvailable as e:
        result["skipped"] = str(e)
    except Exception as e:
        result["error"] = f"{type(e).__name__}: {e}"[:500]
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] or "skipped" in result else 1


if __name__ == "__main__":
    sys.exit(main())
