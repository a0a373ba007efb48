"""bench/latency_timeline.py's arithmetic: the time line it reads out of nginx's log rows (bench/latency_gap.md
rests on it). Synthetic rows with known answers; no server."""
import importlib.util
import os
import sys
import types

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")


@pytest.fixture(scope="module")
def timeline():
    sys.path.insert(0, BENCH)  # it imports bench/server.py
    try:
        spec = importlib.util.spec_from_file_location("latency_timeline", os.path.join(BENCH, "latency_timeline.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(BENCH)


def rows_for(start, delay, concurrency, waves, turn, conns):
    """waves x concurrency requests: wave k's requests arrive at start + k * (delay + turn) + i * 1 ms, each
    answered `delay` later, on connection i % conns."""
    rows = []
    for k in range(waves):
        for i in range(concurrency):
            arrived = start + k * (delay + turn) + i * 0.001
            rows.append((arrived, arrived + delay, str(i % conns)))
    return rows


def test_time_line_of_synthetic_waves(timeline):
    a = types.SimpleNamespace(concurrency=4, delay=50, n=12)
    start = 1000.0
    rows = rows_for(start, 0.050, 4, 3, 0.002, conns=2)
    res = {"t0": start - 0.010, "t1": rows[-1][1] + 0.005, "ok": 12, "all_done": rows[-1][1] + 0.001}
    x = timeline.analyse(a, res, rows)
    assert x["ok"]
    assert x["setup"] == pytest.approx(0.010)
    assert x["conn_lag"] == pytest.approx(0.001)  # connection "1"'s first request came 1 ms after "0"'s
    # wave k starts k * 2 ms late: the turnaround of every wave before it
    assert x["wave_late"] == pytest.approx([0.002, 0.004])
    # the last request: wave 2's 4th, 3 ms into the wave, which itself is 4 ms late
    assert x["last_late"] == pytest.approx(0.007)
    # the i-th answer to the (i + 4)-th arrival: 2 ms, for every answer
    assert x["turn_med"] == pytest.approx(0.002)
    assert x["turn_p90"] == pytest.approx(0.002)
    assert x["held_med"] == pytest.approx(0.0)
    assert x["tail"] == pytest.approx(0.005)
    assert x["core_tail"] == pytest.approx(0.001)
    assert x["conns"] == [6, 6]
    wall = res["t1"] - res["t0"]
    assert x["rate"] == pytest.approx(12 / wall)
    assert x["of_limit"] == pytest.approx(12 / wall / (4 / 0.050))


def test_missing_rows_are_not_ok(timeline):
    """A run whose log lacks some of its requests is flagged, not averaged in as if complete."""
    a = types.SimpleNamespace(concurrency=4, delay=50, n=12)
    rows = rows_for(1000.0, 0.050, 4, 3, 0.0, conns=1)[:-1]
    x = timeline.analyse(a, {"t0": 999.99, "t1": 1000.2, "ok": 12}, rows)
    assert not x["ok"]
    assert x["core_tail"] is None  # h2load and the awaits have no progress call


def test_the_log_format_it_relies_on_is_server_pys(timeline):
    """TimedNginx rewrites bench/server.py's latency log format; if that format changes, the rewrite must fail
    loudly rather than leave rows the parser silently skips."""
    server = sys.modules[timeline.NginxServer.__module__]  # bench/server.py, as the module imported it

    if not any(os.path.exists(p) for p in server.ECHO_MODULE_CANDIDATES):
        pytest.skip("nginx's echo module is not installed")
    srv = timeline.TimedNginx(latency_ms=(50,))
    try:
        with open(srv._write_conf()) as f:
            conf = f.read()
        assert "$msec $request_time" in conf
        assert srv.urls["h2-50"].startswith("https://127.0.0.1:")
    finally:
        srv.cleanup()
