"""run_points: same results on every executor, resumable CSV store, errors."""

import csv
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest

import mtj_kwant.runner as runner
from mtj_kwant.runner import StoreMismatch, fingerprint_of, run_points, start_method

from . import runner_funcs as rf

ROOT = Path(__file__).resolve().parents[1]


def rows(store):
    with open(store, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def serial(points, func=rf.compute):
    return run_points(func, points, executor="serial", progress=False)


def test_executors_give_identical_results():
    points = rf.make_points(9)
    expected = serial(points)
    assert [r["n"] for r in expected] == [i * i - 3 for i in range(9)]
    assert run_points(rf.compute, points, progress=False) == expected  # default process pool
    assert run_points(rf.compute, points, executor=2, progress=False) == expected
    with ThreadPoolExecutor(3) as pool:
        assert run_points(rf.compute, points, executor=pool, progress=False) == expected
        assert run_points(rf.compute, points, executor=pool, progress=False) == expected  # reusable


def test_forked_and_spawned_pools_agree_with_serial(monkeypatch):
    """Both start methods of an owned pool (an int executor: every point in the pool)."""
    points = rf.make_points(6)
    expected = serial(points)
    for method in ("fork", "spawn"):
        monkeypatch.setattr(runner, "start_method", lambda method=method: method)
        assert run_points(rf.compute, points, executor=2, progress=False) == expected


def test_start_method_spawns_beside_other_threads():
    """Forking copies other threads' locks (held forever in the child): spawn then."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert start_method() == "spawn"
    finally:
        stop.set()
        other.join()
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        assert start_method() == "fork"


def test_dask_executor_matches_serial():
    distributed = pytest.importorskip("distributed")
    points = rf.make_points(12)
    with (distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                   dashboard_address=None) as cluster,
          distributed.Client(cluster) as client):
        result = run_points(rf.compute, points, executor=client.get_executor(), progress=False)
    assert result == serial(points)


def test_store_round_trip_resumes_without_recomputing(tmp_path):
    store, log = tmp_path / "out" / "run.csv", tmp_path / "calls.log"
    func = partial(rf.logged, log=log)
    points = rf.make_points(6)
    first = run_points(func, points, executor="serial", store=store, fingerprint="abc",
                       progress=False)
    assert sorted(rf.read_log(log)) == list(range(6))
    again = run_points(func, points, executor="serial", store=store, fingerprint="abc",
                       progress=False)
    assert len(rf.read_log(log)) == 6  # nothing recomputed
    assert again == first == serial(points)
    assert [{k: type(v) for k, v in r.items()} for r in again] == [
        {"y": float, "n": int, "even": bool, "label": str, "plain": float}] * 6
    meta = json.loads(Path(f"{store}.meta.json").read_text())
    assert meta["fingerprint"] == "abc" and meta["columns"][:2] == ["i", "x"]
    assert meta["types"]["even"] == "bool" and meta["types"]["n"] == "int"

    # a subset plus a new point: only the new point is computed, old rows stay in the file
    subset = points[4:] + rf.make_points(7)[6:]
    third = run_points(func, subset, executor="serial", store=store, fingerprint="abc",
                       progress=False)
    assert rf.read_log(log)[6:] == [6] and third == serial(subset)
    assert [int(row["i"]) for row in rows(store)] == list(range(7))


def test_store_is_read_by_pandas(tmp_path):
    pandas = pytest.importorskip("pandas")
    store, points = tmp_path / "run.csv", rf.make_points(5)
    expected = run_points(rf.compute, points, executor=2, store=store, progress=False)
    table = pandas.read_csv(store).sort_values("i")
    assert list(table["x"]) == [p["x"] for p in points]
    for name in ("y", "n", "even", "label", "plain"):
        assert list(table[name]) == [r[name] for r in expected]
    assert table["even"].dtype == bool and table["n"].dtype == "int64"


def test_truncated_last_row_is_recomputed(tmp_path):
    store, log = tmp_path / "run.csv", tmp_path / "calls.log"
    func = partial(rf.logged, log=log)
    points = rf.make_points(4)
    expected = run_points(func, points, executor="serial", store=store, progress=False)
    data = store.read_bytes()
    store.write_bytes(data[:-7])  # cut the last row short, as a SIGKILL mid-write would
    assert run_points(func, points, executor="serial", store=store, progress=False) == expected
    assert rf.read_log(log) == [0, 1, 2, 3, 3]
    assert store.read_bytes() == data

    lines = data.split(b"\n")  # a complete line with too few fields is dropped too
    store.write_bytes(b"\n".join([*lines[:-2], lines[-2].rsplit(b",", 1)[0], b""]))
    assert run_points(func, points, executor="serial", store=store, progress=False) == expected
    assert rf.read_log(log)[5:] == [3] and store.read_bytes() == data


def test_fingerprint_mismatch_raises(tmp_path):
    store = tmp_path / "run.csv"
    settings = {"temperature_K": 300.0, "n_k": 40}
    run_points(rf.compute, rf.make_points(2), executor="serial", store=store,
               fingerprint=fingerprint_of(settings), progress=False)
    other = fingerprint_of({**settings, "n_k": 80})
    assert len(other) == 16 and other != fingerprint_of(settings)
    with pytest.raises(StoreMismatch, match=r"fingerprint.*Delete.*another file"):
        run_points(rf.compute, rf.make_points(2), store=store, fingerprint=other, progress=False)
    with pytest.raises(StoreMismatch, match="parameters"):
        run_points(rf.compute, [{"i": 0, "z": 1.0}], store=store,
                   fingerprint=fingerprint_of(settings), progress=False)
    Path(f"{store}.meta.json").unlink()
    with pytest.raises(StoreMismatch, match="missing"):
        run_points(rf.compute, rf.make_points(2), store=store, progress=False)


def _children(pid):
    """Live (not zombie) processes whose parent is ``pid`` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return out


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal: Linux")
def test_pool_workers_end_with_a_killed_caller(tmp_path):
    """SIGKILL of the process that owns a pool: its workers end too (they used to wait idle
    for tasks forever)."""
    store, log = tmp_path / "killed.csv", tmp_path / "calls.log"
    command = [sys.executable, "-m", "tests.runner_funcs", str(store), str(log), "40", "0.2",
               "2"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while not (log.exists() and len(rf.read_log(log)) >= 2):  # both workers at work
        assert process.poll() is None and time.monotonic() < deadline, "run did not progress"
        time.sleep(0.02)
    workers = _children(process.pid)
    assert len(workers) == 2
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "pool workers outlived their caller"
        time.sleep(0.05)


def test_sigkill_then_resume(tmp_path):
    store, log = tmp_path / "killed.csv", tmp_path / "calls.log"
    command = [sys.executable, "-m", "tests.runner_funcs", str(store), str(log), "12", "0.3"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while not (store.exists() and store.read_bytes().count(b"\n") >= 4):  # header + 3 rows
        assert process.poll() is None and time.monotonic() < deadline, "run did not progress"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL
    done_before = {int(row["i"]) for row in rows(store) if row.get("plain")}
    assert 3 <= len(done_before) < 12

    subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=60)
    final = rows(store)
    assert sorted(int(row["i"]) for row in final) == list(range(12))
    calls = rf.read_log(log)
    assert all(calls.count(i) == 1 for i in done_before)
    assert sorted(set(calls)) == list(range(12)) and len(calls) <= 13

    points = rf.make_points(12)
    resumed = run_points(rf.compute, points, store=store, progress=False)  # all read back
    uninterrupted = run_points(rf.compute, points, store=tmp_path / "whole.csv", progress=False)
    assert resumed == uninterrupted


@pytest.mark.parametrize("executor", ["serial", 2])
def test_worker_exception_propagates_after_storing_finished_points(tmp_path, executor):
    store = tmp_path / "run.csv"
    func = partial(rf.failing, fail_on=5, delay=0.5)
    with pytest.raises(rf.PointFailed, match="point 5 failed"):
        run_points(func, rf.make_points(6), executor=executor, store=store, progress=False)
    assert sorted(int(row["i"]) for row in rows(store)) == [0, 1, 2, 3, 4]


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_counts_resumed_points(tmp_path, monkeypatch):
    """On a terminal the bar starts at the resumed count; in logs (no terminal) there is none."""
    pytest.importorskip("tqdm")
    store = tmp_path / "run.csv"
    run_points(rf.compute, rf.make_points(3), executor="serial", store=store, progress=False)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    run_points(rf.compute, rf.make_points(5), executor="serial", store=store, desc="bias")
    assert "bias:" in terminal.getvalue() and "3/5" in terminal.getvalue()
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    run_points(rf.compute, rf.make_points(6), executor="serial", store=store, desc="bias")
    assert log.getvalue() == ""


def test_duplicate_points_are_computed_once(tmp_path):
    log = tmp_path / "calls.log"
    points = rf.make_points(3)
    result = run_points(partial(rf.logged, log=log), points + points[:1], executor="serial",
                        progress=False)
    assert result == serial(points + points[:1]) and rf.read_log(log) == [0, 1, 2]


@pytest.mark.parametrize("executor", ["threads", 0, -2, 2.5, True, object()])
def test_bad_executor_is_a_type_error(executor):
    with pytest.raises(TypeError, match="executor must be"):
        run_points(rf.compute, rf.make_points(2), executor=executor, progress=False)


def test_bad_points_and_results(tmp_path):
    with pytest.raises(ValueError, match="same parameters"):
        serial([{"i": 0, "x": 1.0}, {"i": 1}])
    with pytest.raises(ValueError, match="mixes"):
        serial([{"i": 0, "x": 1.0}, {"i": 1, "x": "a"}])
    with pytest.raises(ValueError, match="also parameter names"):
        serial([{"i": 0, "x": 1.0, "y": 2.0}])
    with pytest.raises(TypeError, match="picklable"):
        run_points(lambda p: {}, rf.make_points(3), executor=2, progress=False)
    assert run_points(rf.compute, [], store=tmp_path / "none.csv") == []
    assert not (tmp_path / "none.csv").exists()


@pytest.mark.parametrize("executor", ["serial", 2, "dask"])
def test_warnings_of_workers_are_issued_in_the_caller(executor):
    """A warning issued in a worker process arrives in the calling process as a warning of the
    same category and message (so the caller's filters and format apply: the CLI prints one
    line), not as raw text on the worker's stderr; identical ones from several points once."""
    import warnings

    points = rf.make_points(6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        if executor == "dask":
            distributed = pytest.importorskip("distributed")
            with (distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True,
                                           dashboard_address=None) as cluster,
                  distributed.Client(cluster) as client):
                result = run_points(rf.warning, points, executor=client.get_executor(),
                                    progress=False)
        else:
            result = run_points(rf.warning, points, executor=executor, progress=False)
    assert result == serial(points)
    texts = sorted(str(w.message) for w in caught if issubclass(w.category, rf.PointWarning))
    assert texts == ["even points share this warning"] + [f"point {i} is suspicious"
                                                          for i in range(6)]
    assert all(w.filename.endswith("runner_funcs.py") for w in caught
               if issubclass(w.category, rf.PointWarning))


def test_worker_warnings_reach_the_command_line_format(tmp_path):
    """Through a process pool, a warning prints as 'mtj-kwant: warning: ...' (one line)."""
    script = (
        "import sys, warnings\n"
        "from mtj_kwant.cli import _format_warning\n"
        "from mtj_kwant.runner import run_points\n"
        "from tests import runner_funcs as rf\n"
        "warnings.formatwarning = _format_warning\n"
        "if __name__ == '__main__':\n"
        "    run_points(rf.warning, rf.make_points(4), executor=2, progress=False)\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = sorted(proc.stderr.strip().splitlines())
    assert lines == ["mtj-kwant: warning: even points share this warning"] + [
        f"mtj-kwant: warning: point {i} is suspicious" for i in range(4)]
