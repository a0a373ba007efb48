"""codat_platform_c benchmark: one run, every contender, interleaved.

    bash bench/run.sh            # installs what is missing, then runs this
    python bench/bench.py [--quick] [--rounds R] [--figures seq,threads,cold,mem,batch]

Starts nginx on loopback (bench/server.py), builds bench/floor.c, then for each figure
runs round after round; inside a round every contender gets one measurement, in an order
that rotates from round to round, each in a fresh subprocess (bench/worker.py or the floor
binary). Medians over rounds are reported, so slow drift of the machine hits every
contender alike. Writes bench/results.md, bench/results.png and bench/results.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep bench/ free of __pycache__
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from server import NginxServer, TOKEN, nginx_version  # noqa: E402
from latency_bench import with_latency_section  # noqa: E402  (keeps section 6 of results.md)
from report import PY_CONTENDERS, SEQ_BLOCKS, chart, report  # noqa: E402

PY = sys.executable
WORKER = os.path.join(HERE, "worker.py")
AUTH = "Basic QVBJX0tFWQ=="
CID = "8a210b68-6988-11ed-a1eb-0242ac120002"
THREADS = [1, 2, 4, 8]

# Per-contender call counts for a full run (quick divides them). The slow contenders get
# fewer calls; a per-call median does not depend on N once N is well past warm-up.
SEQ_N = {"floor": 20000, "ext": 20000, "facade": 20000, "pycurl": 10000, "httpx": 3000, "requests": 3000,
         "sdk": 3000, "sdk-httpx": 2000}
MEM_N = {"ext": 100000, "facade": 100000, "pycurl": 100000, "httpx": 20000, "requests": 20000, "sdk": 10000,
         "sdk-httpx": 10000}
THREAD_CALLS_PER_THREAD = 400  # against the 1 ms location: ~0.5 s per measurement


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def rotate(items, r):
    if not items:
        return items
    k = r % len(items)
    return items[k:] + items[:k]


# --------------------------------------------------------------------------- running things


def _children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    stat = f.read()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


class Runner:
    def __init__(self, workdir, srv, floor_bin, timeout):
        self.workdir = workdir
        self.srv = srv
        self.floor = floor_bin
        self.timeout = timeout
        self.client_cpus = None  # None: wherever the scheduler puts them
        self.all_cpus = sorted(os.sched_getaffinity(0))
        self.pin_mode = "none"

    def pin(self, mode):
        """Place nginx's worker and the measured client processes on CPUs.

        same:  both on one CPU (the last): a request/response ping-pong is a context switch.
        split: on two different CPUs: every call also pays a cross-CPU wake-up, which in a VM
               can cost more than the client itself (seen here: ~25 vs ~95 µs per call).
        none:  left to the scheduler, which picks either, so sequential figures turn bimodal.
        """
        cpus = self.all_cpus
        if mode == "split" and len(cpus) < 2:
            mode = "same"
        srv_cpus, cli_cpus = set(cpus), None
        if mode == "same":
            srv_cpus = cli_cpus = {cpus[-1]}
        elif mode == "split":
            srv_cpus, cli_cpus = {cpus[-1]}, {cpus[0]}
        try:
            for w in _children(self.srv.proc.pid):
                os.sched_setaffinity(w, srv_cpus)
        except OSError as e:
            log("could not pin nginx:", e)
            cli_cpus, mode = None, "none"
        self.client_cpus, self.pin_mode = cli_cpus, mode

    def _preexec(self):
        cpus = self.client_cpus
        if cpus is None:
            return None
        return lambda: os.sched_setaffinity(0, cpus)

    def _run_json(self, cmd, env=None):
        try:
            p = subprocess.run(cmd, cwd=self.workdir, capture_output=True, text=True,
                               timeout=self.timeout, env=env, preexec_fn=self._preexec())
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": f"timed out after {self.timeout}s"}
        line = (p.stdout.strip().splitlines() or [""])[-1]
        try:
            out = json.loads(line)
        except ValueError:
            return {"ok": False, "error": f"exit {p.returncode}: {(p.stderr or p.stdout)[-400:]}"}
        if out.get("ok") and out.get("token") not in (None, TOKEN):
            return {"ok": False, "error": f"wrong token {out.get('token')!r}"}
        return out

    def target(self, scenario):
        """(base url, ca path) for a scenario name."""
        if scenario == "https":
            return self.srv.urls["https"], self.srv.ca_path
        if scenario == "delay":
            return self.srv.urls["delay"], ""
        return self.srv.urls["http"], ""

    def worker(self, contender, scen, target, n=1000, threads=1, warmup=200, concurrency=16, blocks=1):
        url, ca = self.target(target)
        cmd = [PY, WORKER, contender, scen, "--url", url, "--n", str(n), "--threads", str(threads),
               "--warmup", str(warmup), "--concurrency", str(concurrency), "--blocks", str(blocks)]
        if ca:
            cmd += ["--ca", ca]
        return self._run_json(cmd)

    def floor_run(self, target, n, threads=1, warmup=200, blocks=1):
        url, ca = self.target(target)
        full = f"{url}/companies/{CID}/accessToken"
        return self._run_json([self.floor, full, str(n), ca or "-", str(threads), str(warmup), str(blocks)])

    def measure(self, contender, scen, target, **kw):
        if contender == "floor":
            if scen == "seq":
                return self.floor_run(target, kw["n"], 1, kw.get("warmup", 200), kw.get("blocks", 1))
            if scen == "threads":
                return self.floor_run(target, kw["n"], kw["threads"], kw.get("warmup", 200))
            return None
        return self.worker(contender, scen, target, **kw)

    def wall_ms(self, cmd, env=None):
        """Spawn-to-exit wall time of a fresh process, and its stdout."""
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=self.workdir, capture_output=True, text=True,
                           timeout=self.timeout, env=env, preexec_fn=self._preexec())
        t1 = time.perf_counter()
        if p.returncode != 0:
            raise RuntimeError((p.stderr or p.stdout)[-400:])
        return (t1 - t0) * 1e3, p.stdout


# --------------------------------------------------------------------------- machine facts


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return ""


def machine_info(floor_libcurl):
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    vers = sh(f"{PY} -c \"import importlib.metadata as m\n"
              "for p in ('codat-platform','codat_platform_c','httpx','requests','pycurl','urllib3'):\n"
              "  try: print(p, m.version(p))\n  except Exception: print(p, '-')\"")
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    ext = sh(f"cd /tmp && {PY} -c \"import os, time, codat_platform_c._core as m; "
             "print(m.__file__, 'built', time.strftime('%Y-%m-%d %H:%M', time.localtime(os.path.getmtime(m.__file__))))\"")
    head = sh(f"git -C {os.path.dirname(HERE)} rev-parse --short HEAD")
    dirty = sh(f"git -C {os.path.dirname(HERE)} status --porcelain --untracked-files=no")
    return {
        "extension": ext or "not importable",
        "repo": (head + (" + uncommitted changes" if dirty else "")) if head else "?",
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "nproc": sh("nproc"),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version() + " (" + PY + ")",
        "libcurl (floor, extension)": floor_libcurl or sh("curl-config --version"),
        "pycurl": sh(f"{PY} -c \"import pycurl; print(pycurl.version)\"") or "-",
        "nginx": nginx_version(),
        "openssl": sh("openssl version"),
        "packages": dict(line.split(" ", 1) for line in vers.splitlines() if " " in line),
        "loadavg_at_start": load,
    }


def _cpu_times():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4]  # total, idle + iowait


def wait_idle(max_s, busy_below=0.2, sample_s=3.0):
    """Wait (up to max_s) until the machine's CPUs are busy less than busy_below over sample_s."""
    t_end = time.monotonic() + max_s
    while True:
        t0, i0 = _cpu_times()
        time.sleep(sample_s)
        t1, i1 = _cpu_times()
        busy = 1 - (i1 - i0) / max(1, t1 - t0)
        if busy < busy_below:
            log(f"machine idle enough ({busy:.0%} busy), starting")
            return busy
        if time.monotonic() > t_end:
            log(f"still {busy:.0%} busy after waiting {max_s:.0f} s; starting anyway")
            return busy
        log(f"machine {busy:.0%} busy, waiting for it to quiet down")


def build_floor(workdir):
    src = os.path.join(HERE, "floor.c")
    out = os.path.join(workdir, "floor")
    flags = sh("pkg-config --cflags --libs libcurl libcjson")
    cmd = f"cc -O2 -o {out} {src} {flags} -lpthread"
    p = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    if p.returncode != 0:
        log("floor build failed:", cmd, p.stderr[-800:])
        return None
    return out


# --------------------------------------------------------------------------- figures


def paired(per_round, a, b, key):
    """Median over rounds of a/b (or None): both measured in the same round, minutes apart at
    most, so drift of the machine between rounds cancels out of the ratio."""
    rs = [per_round[a][r][key] / per_round[b][r][key]
          for r in per_round.get(a, {}) if r in per_round.get(b, {}) and per_round[b][r][key]]
    return med(rs)


def fig_seq(R, contenders, rounds, scale):
    """Figure 1: sequential keep-alive calls over HTTP and HTTPS."""
    res = {t: {c: {} for c in contenders} for t in ("http", "https")}  # target -> c -> round -> out
    errs = {}
    for r in range(rounds):
        log(f"[seq] round {r + 1}/{rounds}")
        for target in ("http", "https"):
            for c in rotate(contenders, r):
                n = max(50, int(SEQ_N[c] * scale))
                out = R.measure(c, "seq", target, n=n, warmup=min(200, n), blocks=SEQ_BLOCKS)
                if out and out.get("ok"):
                    res[target][c][r] = out
                else:
                    errs[(c, target)] = (out or {}).get("error", "?")
                    log(f"  {c} {target}: {errs[(c, target)]}")
    summary = {}
    for target, per in res.items():
        summary[target] = {}
        for c, runs in per.items():
            if not runs:
                continue
            us = [x["elapsed_us_per_call"] for x in runs.values()]
            cpu = [x["cpu_us_per_call"] for x in runs.values()]
            summary[target][c] = {
                "us": med(us), "cpu": med(cpu), "us_min": min(us), "us_max": max(us),
                "calls": next(iter(runs.values()))["calls"], "runs": len(runs),
                "x_floor_us": paired(per, c, "floor", "elapsed_us_per_call"),
                "x_floor_best": (min(us) / min(x["elapsed_us_per_call"] for x in per["floor"].values())
                                 if per.get("floor") else None),
                "x_floor_cpu": paired(per, c, "floor", "cpu_us_per_call"),
                "sdk_speedup_us": paired(per, "sdk", c, "elapsed_us_per_call"),
                "sdk_speedup_best": (min(x["elapsed_us_per_call"] for x in per["sdk"].values()) / min(us)
                                     if per.get("sdk") else None),
                "sdk_speedup_cpu": paired(per, "sdk", c, "cpu_us_per_call"),
                # the facade's price over the core it wraps, and what it saves against the SDK (CPU)
                "x_ext_cpu": paired(per, c, "ext", "cpu_us_per_call"),
            }
    return {"summary": summary, "errors": {f"{c}/{t}": e for (c, t), e in errs.items()},
            "per_round": {t: {c: {r: [o["elapsed_us_per_call"], o["cpu_us_per_call"]] for r, o in v.items()}
                              for c, v in per.items()} for t, per in res.items()}}


def fig_threads(R, contenders, rounds, scale, threads):
    """Figure 2: T threads sharing one client against the 1 ms delay location."""
    res = {c: {t: [] for t in threads} for c in contenders}
    errs = {}
    per_thread = max(20, int(THREAD_CALLS_PER_THREAD * scale))
    for r in range(rounds):
        log(f"[threads] round {r + 1}/{rounds}")
        for t in threads:
            for c in rotate(contenders, r):
                out = R.measure(c, "threads", "delay", n=per_thread * t, threads=t, warmup=20)
                if out and out.get("ok"):
                    res[c][t].append(out["calls_per_s"])
                else:
                    errs[f"{c}/{t}"] = (out or {}).get("error", "?")
                    log(f"  {c} x{t}: {errs[f'{c}/{t}']}")
    summary = {c: {t: med(v) for t, v in per.items() if v} for c, per in res.items()}
    summary = {c: v for c, v in summary.items() if v}
    return {"summary": summary, "calls_per_thread": per_thread, "errors": errs}


def _client_code(c, url):
    """Statements a user would write: import, make the client, one call."""
    if c == "ext":
        return ("import codat_platform_c as codat\n"
                f"c = codat.Client(auth_header={AUTH!r}, server_url={url!r}, verify=True)\n"
                f"t = c.get_company_access_token({CID!r})['accessToken']\n")
    if c == "facade":
        return ("from codat_platform_c.sdk import CodatPlatform\nfrom codat_platform_c.sdk.models import shared\n"
                f"cp = CodatPlatform(security=shared.Security(auth_header={AUTH!r}), server_url={url!r})\n"
                f"t = cp.companies.get_access_token(request={{'company_id': {CID!r}}}).access_token\n"
                "import sys; assert 'codat_platform' not in sys.modules  # the facade never loads the SDK\n")
    if c == "sdk":
        return ("from codat_platform import CodatPlatform\nfrom codat_platform.models import shared\n"
                "import warnings; warnings.simplefilter('ignore')\n"
                f"cp = CodatPlatform(security=shared.Security(auth_header={AUTH!r}), server_url={url!r})\n"
                f"t = cp.companies.get_access_token(request={{'company_id': {CID!r}}}).access_token\n")
    if c == "httpx":
        return ("import httpx\n"
                f"c = httpx.Client(headers={{'Authorization': {AUTH!r}, 'Accept': 'application/json'}})\n"
                f"t = c.get({url!r} + '/companies/{CID}/accessToken').json()['accessToken']\n")
    if c == "requests":
        return ("import requests\n"
                f"s = requests.Session(); s.headers['Authorization'] = {AUTH!r}\n"
                f"t = s.get({url!r} + '/companies/{CID}/accessToken').json()['accessToken']\n")
    if c == "pycurl":
        return ("import pycurl, io, json\n"
                "h = pycurl.Curl(); b = io.BytesIO()\n"
                f"h.setopt(pycurl.URL, {url!r} + '/companies/{CID}/accessToken')\n"
                f"h.setopt(pycurl.HTTPHEADER, ['Authorization: {AUTH}', 'Accept: application/json'])\n"
                "h.setopt(pycurl.WRITEDATA, b); h.perform()\n"
                "t = json.loads(b.getvalue())['accessToken']\n")
    raise ValueError(c)


IMPORT_STMT = {
    "ext": "import codat_platform_c",
    "facade": "from codat_platform_c.sdk import CodatPlatform; from codat_platform_c.sdk.models import shared",
    "sdk": "from codat_platform import CodatPlatform; from codat_platform.models import shared",
    "httpx": "import httpx",
    "requests": "import requests",
    "pycurl": "import pycurl",
}


def fig_cold(R, contenders, rounds):
    """Figure 3: fresh-process import time and import + one call."""
    url = R.srv.urls["http"]
    cs = [c for c in contenders if c in IMPORT_STMT] + (["facade"] if "ext" in contenders else [])
    imp = {c: [] for c in cs}
    call = {c: [] for c in cs + ["floor", "python"]}
    errs = {}
    for r in range(rounds):
        log(f"[cold] round {r + 1}/{rounds}")
        for c in rotate(cs + ["floor", "python"], r):
            try:
                if c == "python":
                    ms, _ = R.wall_ms([PY, "-c", "pass"])
                    call[c].append(ms)
                    continue
                if c == "floor":
                    if R.floor:
                        full = f"{url}/companies/{CID}/accessToken"
                        ms, _ = R.wall_ms([R.floor, full, "1", "-", "1", "0"])
                        call[c].append(ms)
                    continue
                code = ("import time as _t\n_t0 = _t.perf_counter()\n" + IMPORT_STMT[c] +
                        "\nprint((_t.perf_counter() - _t0) * 1e3)\n")
                _, out = R.wall_ms([PY, "-c", code])
                imp[c].append(float(out.strip().splitlines()[-1]))
                code = _client_code(c, url) + f"assert t == {TOKEN!r}, t\n"
                ms, _ = R.wall_ms([PY, "-c", code])
                call[c].append(ms)
            except Exception as e:
                errs[c] = str(e)[-300:]
                log(f"  {c}: {errs[c]}")
    importtime = {}
    for c in cs:  # -X importtime: the top self+cumulative entries, for the README's curious
        try:
            p = subprocess.run([PY, "-X", "importtime", "-c", IMPORT_STMT[c]], cwd=R.workdir,
                               capture_output=True, text=True, timeout=60)
            lines = [l for l in p.stderr.splitlines() if l.startswith("import time:") and "|" in l]
            rows = []
            for l in lines[1:]:
                parts = [x.strip() for x in l[len("import time:"):].split("|")]
                rows.append((int(parts[1]), parts[2]))
            rows.sort(reverse=True)
            importtime[c] = rows[:5]
        except Exception:
            pass
    return {"import_ms": {c: med(v) for c, v in imp.items() if v},
            "cold_call_ms": {c: med(v) for c, v in call.items() if v},
            "importtime_top": importtime, "errors": errs}


def fig_mem(R, contenders, rounds, scale):
    """Figure 4: RSS after import, after one call, growth over N calls."""
    cs = [c for c in contenders if c in MEM_N]
    res = {c: [] for c in cs}
    errs = {}
    for r in range(rounds):
        log(f"[mem] round {r + 1}/{rounds}")
        for c in rotate(cs, r):
            n = max(100, int(MEM_N[c] * scale))
            out = R.worker(c, "mem", "http", n=n, warmup=1000 if scale >= 0.5 else 100)
            if out.get("ok"):
                res[c].append(out)
            else:
                errs[c] = out.get("error", "?")
                log(f"  {c}: {errs[c]}")
    summary = {}
    for c, runs in res.items():
        if not runs:
            continue
        n = runs[0]["calls"]
        g = med([x["growth_kb"] for x in runs])
        summary[c] = {
            "rss_import_kb": med([x["rss_import_kb"] for x in runs]),
            "rss_one_call_kb": med([x["rss_one_call_kb"] for x in runs]),
            "growth_kb": g, "growth_max_kb": max(x["growth_kb"] for x in runs),
            "calls": n, "warmup": runs[0]["warmup"], "growth_per_100k_kb": g * 100000 / n,
            "runs": len(runs),
        }
    return {"summary": summary, "errors": errs}


def fig_batch(R, contenders, rounds, n):
    """Figure 5 (hook): n tokens with concurrency 16 against the 1 ms delay location."""
    cs = [c for c in contenders if c in ("ext", "sdk", "httpx")]
    res = {}
    notes = {}
    for r in range(rounds):
        log(f"[batch] round {r + 1}/{rounds}")
        for c in rotate(cs, r):
            out = R.worker(c, "batch", "delay", n=n, concurrency=16, warmup=0)
            if out.get("ok"):
                for label, v in out["variants"].items():
                    res.setdefault((c, label), []).append(v)
            else:
                notes[c] = out.get("skipped") or out.get("error", "?")
                log(f"  {c}: {notes[c]}")
    summary = {}
    for (c, label), runs in res.items():
        summary.setdefault(c, {})[label] = {
            "ms": med([x["ms"] for x in runs]),
            "tokens_per_s": med([x["tokens_per_s"] for x in runs]),
            "cpu_us_per_call": med([x["cpu_us_per_call"] for x in runs]),
            "runs": len(runs),
        }
    return {"summary": summary, "notes": notes, "calls": n, "concurrency": 16}


# --------------------------------------------------------------------------- main


def _parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run: few calls, 1 round (< ~60 s)")
    p.add_argument("--rounds", type=int, default=None,
                   help="rounds for figure 1 (default 7; quick 1); figures 2 and 4 use min(R, 3), 5 uses 3")
    p.add_argument("--figures", default="seq,threads,cold,mem,batch",
                   help="comma list of seq,threads,cold,mem,batch")
    p.add_argument("--contenders", default=",".join(PY_CONTENDERS),
                   help="comma list of Python contenders (the floor always runs)")
    p.add_argument("--out", default=HERE, help="where results.md/.png/.json go (default bench/)")
    p.add_argument("--timeout", type=float, default=300, help="seconds before one measurement is abandoned")
    p.add_argument("--pin", choices=("same", "split", "none"), default="same",
                   help="CPU placement of nginx's worker and the client for figures 1, 3, 4 (default same: "
                        "both on one CPU; split: different CPUs; none: the scheduler's choice)")
    p.add_argument("--pin-concurrent", choices=("same", "split", "none"), default="none",
                   help="the same for figures 2 and 5 (threads, batch); default none")
    p.add_argument("--wait-idle", type=float, default=0, metavar="S",
                   help="first wait up to S seconds for the machine to be < 20%% busy (other work skews results)")
    p.add_argument("--replot", action="store_true",
                   help="measure nothing: rewrite results.md and results.png from OUT/results.json")
    return p.parse_args()


def _replot(a):
    """--replot: rewrite results.md and results.png from OUT/results.json, measuring nothing."""
    with open(os.path.join(a.out, "results.json")) as f:
        saved = json.load(f)
    res = saved["results"]
    th = res.get("threads", {}).get("summary", {})
    if "threads" in res:  # a run may have left figure 2 out
        res["threads"]["summary"] = {c: {int(t): v for t, v in per.items()} for c, per in th.items()}
    md = with_latency_section(report(saved["meta"], res, a), a.out)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(md)
    chart(res, os.path.join(a.out, "results.png"))
    print(md)


def _check_contenders(R, wanted):
    """(available, skipped: contender -> why): which contenders can run here at all."""
    available, skipped = [], {}
    for c in wanted:
        out = R.worker(c, "check", "http", warmup=0)
        if out.get("ok"):
            available.append(c)
        else:
            skipped[c] = out.get("skipped") or out.get("error", "?")
            if c == "ext":
                print(f"codat_platform_c: {skipped[c]} — skipping it", flush=True)
            else:
                log(f"{c}: skipped: {skipped[c]}")
    return available, skipped


def _run_figures(R, a, meta, seq_cs, available):
    """Every figure asked for, each timed into meta["figure_seconds"] and its CPU placement noted."""
    quick = a.quick
    rounds = a.rounds or (1 if quick else 7)
    scale = 0.05 if quick else 1.0
    figures = [f for f in a.figures.split(",") if f]
    results = {}
    timings = meta["figure_seconds"] = {}
    pins = meta["pinning"] = {}
    t_fig = time.perf_counter()
    plan = [
        ("seq", a.pin, lambda: fig_seq(R, seq_cs, rounds, scale)),
        ("threads", a.pin_concurrent,
         lambda: fig_threads(R, [c for c in seq_cs if c != "sdk-httpx"], 1 if quick else min(rounds, 3),
                             0.1 if quick else 1.0, THREADS)),
        ("cold", a.pin, lambda: fig_cold(R, available, 2 if quick else 10)),
        ("mem", a.pin, lambda: fig_mem(R, [c for c in available if c != "sdk-httpx"],
                                       1 if quick else min(rounds, 3), 0.02 if quick else 1.0)),
        ("batch", a.pin_concurrent, lambda: fig_batch(R, available, 1 if quick else 3, 200 if quick else 1000)),
    ]
    for name, pin, run in plan:
        if name not in figures:
            continue
        R.pin(pin)
        pins[name] = R.pin_mode
        results[name] = run()
        now = time.perf_counter()
        timings[name] = round(now - t_fig, 1)
        t_fig = now
    return results


def _write(a, meta, results):
    """results.md (with the latency section kept), results.json and results.png."""
    md = with_latency_section(report(meta, results, a), a.out)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(md)
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1, default=str)
    png = os.path.join(a.out, "results.png")
    chart(results, png)
    print(md)
    log(f"wrote {os.path.join(a.out, 'results.md')}, results.png, results.json in {meta['elapsed_s']:.0f} s")


def main():
    a = _parse_args()
    if a.replot:
        _replot(a)
        return

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally: stop nginx
    t_start = time.perf_counter()
    wanted = [c for c in a.contenders.split(",") if c]
    busy_at_start = wait_idle(a.wait_idle) if a.wait_idle > 0 else None
    workdir = tempfile.mkdtemp(prefix="codat-bench-")
    os.chmod(workdir, 0o755)
    floor_bin = build_floor(workdir)
    srv = NginxServer(os.path.join(workdir, "nginx"))
    os.makedirs(srv.dir, exist_ok=True)
    os.chmod(srv.dir, 0o755)
    results, meta = {}, {}
    try:
        srv.start()
        log("nginx up:", srv.urls)
        R = Runner(workdir, srv, floor_bin, a.timeout)

        floor_libcurl = None
        if floor_bin:
            out = R.floor_run("http", 100, 1, 10)
            if out.get("ok"):
                floor_libcurl = out.get("libcurl")
            else:
                log("floor failed:", out.get("error"))
                R.floor = floor_bin = None
        meta["machine"] = machine_info(floor_libcurl)
        available, skipped = _check_contenders(R, wanted)
        if not floor_bin:
            skipped["floor"] = "floor.c did not build or run"
        meta.update(available=available, skipped=skipped)
        results = _run_figures(R, a, meta, (["floor"] if floor_bin else []) + available, available)
        if floor_bin:
            R.pin(a.pin)
            out = R.floor_run("http", 1000, 1, 10)
            meta["floor_maxrss_kb"] = out.get("maxrss_kb")
    finally:
        srv.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)

    with open("/proc/loadavg") as f:
        meta["loadavg_at_end"] = " ".join(f.read().split()[:3])
    meta["elapsed_s"] = time.perf_counter() - t_start
    if busy_at_start is not None:
        meta["busy_at_start"] = f"{busy_at_start:.0%} CPU busy after --wait-idle {a.wait_idle:.0f}"
    meta["mode"] = "quick smoke run" if a.quick else "full run"
    meta["rounds"] = a.rounds or (1 if a.quick else 7)
    meta["command"] = " ".join(["bash bench/run.sh"] + [shlex.quote(x) for x in sys.argv[1:]])
    _write(a, meta, results)


if __name__ == "__main__":
    main()
