"""Evaluate a function on many parameter points, in parallel and resumably.

:func:`run_points` calls ``func(point)`` for every ``point`` (a dict of
parameter name -> scalar), on a local process pool, a thread pool, a dask
cluster or in-process, and returns the results in the order of the points.
With a *store* (a CSV file) every finished point is appended at once, so a
run that is killed (SIGKILL, out of memory, end of a batch job) resumes where
it stopped: points already in the store are read back, not recomputed.

This module does not import Kwant; dask and tqdm are imported only when used.

Store format
------------
The store is a plain CSV file (UTF-8, ``,`` separated, ``\\n`` line ends): one
header line, then one row per finished point, in completion order.  The
columns are the point parameters followed by the result names.  Floats are
written with :func:`repr`, so they read back bit for bit; booleans are written
``True`` / ``False``.  There are no comment lines, so the file is read
directly by pandas and, through pandas, by xarray::

    import pandas as pd
    table = pd.read_csv("out/sweep.csv")
    data = table.set_index(["bias_V", "theta_deg"]).to_xarray()

A sidecar ``<store>.meta.json`` holds what the CSV cannot::

    {"format": "mtj_kwant run_points v1",
     "fingerprint": "3f1c0a9e5b7d2468",
     "columns": ["bias_V", "theta_deg", "current", "converged"],
     "parameters": ["bias_V", "theta_deg"],
     "types": {"bias_V": "number", "theta_deg": "number",
               "current": "float", "converged": "bool"}}

``types`` gives each result column's Python type (``"float"``, ``"int"``,
``"bool"`` or ``"str"``), so resumed values come back with the type the
function returned, and each parameter's kind (``"number"``, ``"bool"`` or
``"str"``).  Stored rows are matched to the requested points by parameter
value, numbers compared as floats.  Rows for points that are not requested
are kept in the file and ignored.  The *fingerprint* (for example
:func:`fingerprint_of` of the settings) guards against resuming a store that
was written with other settings.  A store has one writer at a time.

Parallel execution
------------------
An owned pool's workers are forked (``"fork"``) on Linux when the calling
process runs a single thread: they start in milliseconds with the caller's
imported modules, compiled kernels and cached Kwant systems
(:func:`start_method`).  Elsewhere, or beside other threads (forking them is
unsafe), they are started with ``"spawn"`` (about 0.7 s each: a new
interpreter, imports, the kernels from the on-disk cache).  Either way
``func`` must be picklable by reference, i.e. a module-level function of an
importable module or a :func:`functools.partial` of one (its arguments
picklable too), and a script that calls :func:`run_points` must do so under
``if __name__ == "__main__":`` (spawn imports it again).

Warnings that ``func`` issues in a worker process (a process pool, a dask
worker) travel back with its result and are issued again in the calling
process, with their category, message and origin, so that the caller's
filters and format apply to them (the command line prints one line each);
identical warnings from several points are shown once.  Thread pools need no
transport: their warnings are issued in the calling process already.
"""

from __future__ import annotations

import csv
import hashlib
import json
import multiprocessing
import numbers
import os
import pickle
import queue
import sys
import threading
import warnings
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np

__all__ = ["STORE_FORMAT", "StoreMismatch", "fingerprint_of", "run_points"]

STORE_FORMAT = "mtj_kwant run_points v1"

_EXECUTORS = (
    "None, 'serial', a positive int (number of processes) or a "
    "concurrent.futures.Executor such as dask's client.get_executor()"
)
_KINDS = {bool: "bool", int: "number", float: "number", str: "str"}


class StoreMismatch(ValueError):
    """The store on disk cannot be resumed by this run (other settings or columns)."""


def fingerprint_of(obj) -> str:
    """Short, stable hash of settings, to pass as ``fingerprint`` to :func:`run_points`.

    Parameters
    ----------
    obj : object
        JSON-serialisable data (dicts, lists, numbers, strings); other objects
        are hashed through their :func:`repr`.

    Returns
    -------
    str
        The first 16 hex digits of the SHA-256 of
        ``json.dumps(obj, sort_keys=True, default=repr)``.
    """
    text = json.dumps(obj, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def run_points(func, points, *, executor=None, store=None, fingerprint=None,
               progress=True, desc="points"):
    """Evaluate func(point) for every point; return the list of results in the order of `points`.

    Parameters
    ----------
    func : callable
        Called as ``func(point)`` with one point dict; returns a flat dict
        result name -> scalar (float, int, bool or str; NumPy scalars are
        converted to the Python ones).  Every call must return the same names
        with the same types, and no name may be a parameter name.  For worker
        processes it must be picklable: a module-level function of an
        importable module, or a :func:`functools.partial` of one.
    points : sequence of dict
        Parameter name -> scalar (float, int, bool or str), the same names in
        every point.  The values identify a point: duplicated points are
        computed once.
    executor : None, 'serial', int or Executor, optional
        ``None`` (default): the calling process computes points itself beside
        a local process pool of one worker per further CPU (at most one per
        point left to do), created and shut down here; points the pool has
        not started when the caller runs out of work are taken back, so a
        pool that starts slowly costs nothing.  Runs in-process instead when
        only one point is left or there is one CPU.
        ``'serial'``: in-process loop.  An int ``n``: a pool of ``n``
        processes (``n = 1`` is serial).  Any object with the
        :class:`concurrent.futures.Executor` interface (a
        ``ThreadPoolExecutor``, dask's ``client.get_executor()``, ...) is used
        as it is and not shut down.
    store : str or path-like, optional
        CSV file (see the module documentation).  Each point is appended as
        soon as it finishes (flushed and fsync'ed); points already in the file
        are not recomputed.  A last row cut short by a kill is dropped.
    fingerprint : str, optional
        Identifies the settings behind the store, kept in
        ``<store>.meta.json``; resuming with another fingerprint fails.
    progress : bool, optional
        Show a tqdm bar on stderr counting finished points, resumed ones
        included (no bar if tqdm is not installed).
    desc : str, optional
        Label of the progress bar.

    Returns
    -------
    list of dict
        ``func(point)`` for each point, in the order of `points`, whatever
        the executor and whether the value was computed or resumed.

    Raises
    ------
    TypeError
        Invalid `executor`, a point or result that is not a dict of scalars,
        or an unpicklable `func` for the default process pool.
    ValueError
        Points with different parameter names, a parameter mixing numbers and
        strings, result names colliding with parameter names or results
        inconsistent between points.
    StoreMismatch
        The store was written by another run: other fingerprint, parameters,
        result columns or types, or a missing or damaged sidecar.
    Exception
        Whatever `func` raises, re-raised here once the points already
        finished are stored; points not started are cancelled.

    Notes
    -----
    With a pool the rows of the store are in completion order, not in the
    order of `points`.  When `func` fails, the call returns once the points
    still running in an owned pool have finished; their results are dropped.
    """
    points = list(points)
    _check_executor(executor)
    if not points:
        return []
    schema = _Schema(points)
    keys = [schema.key(schema.clean(point)) for point in points]
    first = {}
    for index, key in enumerate(keys):
        first.setdefault(key, index)
    writer = _Store(store, fingerprint, schema) if store is not None else None
    results = writer.load() if writer is not None else {}
    todo = [(key, points[index]) for key, index in first.items() if key not in results]
    bar = None  # created after the pool: a forked pool starts before any other thread

    def record(key, result):
        results[key] = result = schema.check_result(result)
        if writer is not None:
            writer.append(schema.clean(points[first[key]]), result)
        if bar is not None:
            bar.update()

    pool, owned = _make_pool(executor, func, len(todo))
    bar = _progress_bar(progress, len(first), len(first) - len(todo), desc)
    try:
        if owned and executor is None:
            _evaluate_alongside(func, todo, pool, record)
        else:
            _evaluate(func, todo, pool, record)
    finally:
        if owned:
            pool.shutdown(wait=True, cancel_futures=True)
        if writer is not None:
            writer.close()
        if bar is not None:
            bar.close()
    return [dict(results[key]) for key in keys]


# -- values -------------------------------------------------------------------------------------


def _scalar(value, what):
    """`value` as a Python bool, int, float or str (NumPy scalars included)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        if "\n" in value or "\r" in value:
            raise ValueError(f"{what} contains a line break: {value!r}")
        return str(value)
    raise TypeError(f"{what} must be a float, int, bool or str, got {type(value).__name__}")


def _format(value):
    return repr(value) if isinstance(value, float) else str(value)


def _parse(text, type_name):
    """Inverse of :func:`_format` for a column of type `type_name`."""
    if type_name == "bool":
        if text not in ("True", "False"):
            raise ValueError(f"not a bool: {text!r}")
        return text == "True"
    if type_name == "int":
        return int(text)
    if type_name in ("float", "number"):
        return float(text)
    if type_name == "str":
        return text
    raise ValueError(f"unknown column type {type_name!r}")


def _canonical(value):
    """Value used to match points: numbers compared as floats (all NaNs alike)."""
    if isinstance(value, (bool, str)):
        return value
    value = float(value)
    return "nan" if value != value else value


def _names(names, what):
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{what} names must be str, got {name!r}")
        _scalar(name, f"{what} name")
    return list(names)


# -- schema: parameter kinds, result types ------------------------------------------------------


class _Schema:
    """Column names and types of a run, checked against each point and result."""

    def __init__(self, points):
        for index, point in enumerate(points):
            if not isinstance(point, Mapping):
                raise TypeError(f"points must be dicts, point {index} is {type(point).__name__}")
        names = _names(points[0], "parameter")
        self.params = {}
        for index, point in enumerate(points):
            if set(point) != set(names):
                raise ValueError(f"all points must have the same parameters: point 0 has "
                                 f"{sorted(names)}, point {index} has {sorted(point)}")
        for name in names:
            kinds = {_KINDS[type(_scalar(point[name], f"parameter {name!r}"))]
                     for point in points}
            if len(kinds) > 1:
                raise ValueError(f"parameter {name!r} mixes {' and '.join(sorted(kinds))} values")
            self.params[name] = kinds.pop()
        self.results = None
        self.origin = "the first result"
        self.mismatch = ValueError

    @property
    def columns(self):
        return list(self.params) + list(self.results)

    @property
    def types(self):
        return {**self.params, **self.results}

    def clean(self, point):
        return {name: _scalar(value, f"parameter {name!r}") for name, value in point.items()}

    def key(self, values):
        return tuple(_canonical(values[name]) for name in sorted(self.params))

    def adopt(self, parameters, types, mismatch):
        """Take the column order and result types of a store, whose errors `mismatch` makes."""
        self.params = {name: self.params[name] for name in parameters}
        self.results = {name: kind for name, kind in types.items() if name not in self.params}
        self.origin = "the store"
        self.mismatch = mismatch

    def check_result(self, result):
        """`result` with Python scalars, checked against the earlier results."""
        if not isinstance(result, Mapping):
            raise TypeError(f"func must return a dict of scalars, got {type(result).__name__}")
        _names(result, "result")
        result = {name: _scalar(value, f"result {name!r}") for name, value in result.items()}
        clash = sorted(set(result) & set(self.params))
        if clash:
            raise ValueError(f"result names {clash} are also parameter names; rename them")
        types = {name: type(value).__name__ for name, value in result.items()}
        if self.results is None:
            self.results = types
        elif types != self.results:
            raise self.mismatch(f"func returned {_describe(types)} but {self.origin} has "
                                f"{_describe(self.results)}; func must return the same names "
                                "and types for every point")
        return result


def _describe(types):
    return "{" + ", ".join(f"{name}: {kind}" for name, kind in types.items()) + "}"


# -- CSV store ----------------------------------------------------------------------------------


class _Store:
    """The CSV file of finished points and its ``.meta.json`` sidecar."""

    def __init__(self, path, fingerprint, schema):
        self.path = Path(path)
        self.meta_path = Path(f"{self.path}.meta.json")
        self.fingerprint = fingerprint
        self.schema = schema
        self._file = None
        self._writer = None

    def _mismatch(self, reason):
        return StoreMismatch(f"{self.path}: {reason}. Delete {self.path} and {self.meta_path.name} "
                             "to start afresh, or write to another file (--output)")

    def load(self):
        """Finished results by point key; drops a truncated last row from the file."""
        if not self.path.exists():
            return {}
        data = self.path.read_bytes()
        lines = data.split(b"\n")[:-1]  # what follows the last line end is a cut-off row
        if not lines:
            self._truncate(0, len(data))
            return {}
        try:
            header = _csv_fields(lines[0])
        except ValueError:
            raise self._mismatch("its header is damaged") from None
        self._check_header(header)
        results = {}
        size = len(lines[0]) + 1
        for number, line in enumerate(lines[1:], start=2):
            try:
                key, result = self._parse_row(_csv_fields(line))
            except ValueError:
                if number == len(lines):
                    break  # a row cut short by a kill: recompute that point
                raise self._mismatch(f"line {number} is damaged") from None
            results[key] = result
            size += len(line) + 1
        self._truncate(size, len(data))
        return results

    def _check_header(self, header):
        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise self._mismatch(f"its sidecar {self.meta_path.name} is missing, so it cannot "
                                 "be checked against this run") from None
        except (OSError, ValueError) as exc:
            raise self._mismatch(f"its sidecar {self.meta_path.name} is unreadable ({exc})") \
                from exc
        if not isinstance(meta, dict) or meta.get("format") != STORE_FORMAT:
            raise self._mismatch(f"{self.meta_path.name} is not a {STORE_FORMAT!r} sidecar")
        if meta.get("fingerprint") != self.fingerprint:
            raise self._mismatch(f"it was written with fingerprint {meta.get('fingerprint')!r}, "
                                 f"this run has {self.fingerprint!r} (other settings)")
        parameters, types = meta.get("parameters"), meta.get("types")
        if (not isinstance(parameters, list) or not isinstance(types, dict)
                or not set(parameters) <= set(types)
                or not set(types.values()) <= {"bool", "int", "float", "str", "number"}):
            raise self._mismatch(f"{self.meta_path.name} is damaged")
        stored = {name: types[name] for name in parameters}
        if stored != self.schema.params:
            raise self._mismatch(f"its parameters are {_describe(stored)}, this run has "
                                 f"{_describe(self.schema.params)}")
        if header != meta.get("columns") or list(types) != header:
            raise self._mismatch(f"its header {header} does not match {self.meta_path.name}")
        self.schema.adopt(parameters, types, self._mismatch)

    def _parse_row(self, fields):
        types = self.schema.types
        values = {name: _parse(text, kind)  # strict: a wrong field count is a ValueError
                  for (name, kind), text in zip(types.items(), fields, strict=True)}
        return self.schema.key(values), {name: values[name] for name in self.schema.results}

    def _truncate(self, size, old_size):
        if size < old_size:
            with open(self.path, "r+b") as file:
                file.truncate(size)
                file.flush()
                os.fsync(file.fileno())

    def append(self, point, result):
        """Append one finished point and make it durable."""
        if self._file is None:
            self._open()
        self._writer.writerow([_format(point[name]) for name in self.schema.params]
                              + [_format(result[name]) for name in self.schema.results])
        self._file.flush()
        os.fsync(self._file.fileno())

    def _open(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        if fresh:
            self._write_meta()
        self._file = open(self.path, "a", newline="", encoding="utf-8")  # noqa: SIM115 (closed by close())
        self._writer = csv.writer(self._file, lineterminator="\n")
        if fresh:
            self._writer.writerow(self.schema.columns)

    def _write_meta(self):
        meta = {"format": STORE_FORMAT, "fingerprint": self.fingerprint,
                "columns": self.schema.columns, "parameters": list(self.schema.params),
                "types": self.schema.types}
        temporary = self.meta_path.with_name(self.meta_path.name + ".tmp")
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(meta, file, indent=1)
            file.write("\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.meta_path)

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None


def _csv_fields(line):
    return next(csv.reader([line.decode("utf-8")]), [])


# -- execution ----------------------------------------------------------------------------------


def _check_executor(executor):
    if (executor is None or (isinstance(executor, str) and executor == "serial")
            or (isinstance(executor, int) and not isinstance(executor, bool) and executor >= 1)
            or callable(getattr(executor, "submit", None))):
        return
    raise TypeError(f"executor must be {_EXECUTORS}; got {executor!r}")


def _cpu_count():
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _make_pool(executor, func, n_todo):
    """(executor to submit to or None for in-process, whether run_points owns it)."""
    if isinstance(executor, str) or n_todo == 0:
        return None, False
    if executor is None or isinstance(executor, int):
        # None: the caller computes too, beside one worker per further CPU
        workers = min(n_todo - 1, _cpu_count() - 1) if executor is None else \
            min(n_todo, executor)
        if workers < 1 or (executor is not None and workers == 1):
            return None, False
        try:
            pickle.dumps(func)
        except Exception as exc:
            raise TypeError(f"func must be picklable to run in worker processes (a module-level "
                            f"function or a functools.partial of one), or use executor='serial': "
                            f"{exc}") from exc
        method = start_method()
        if method == "fork":  # buffered output would be written again by each worker's exit
            sys.stdout.flush()
            sys.stderr.flush()
        pool = ProcessPoolExecutor(max_workers=workers,
                                   mp_context=multiprocessing.get_context(method),
                                   initializer=_worker_init, initargs=(os.getpid(),))
        if method == "fork":
            pool.submit(int).result()  # fork every worker now, while this is the only thread
        return pool, True
    return executor, False


def _worker_init(parent):
    """A pool worker ends with the process that owns its pool, even one killed by SIGKILL.

    Linux: the kernel sends SIGTERM to the worker when its parent dies
    (``prctl(PR_SET_PDEATHSIG)``); a parent that died before this ran is seen
    as a changed parent id.  Elsewhere nothing is done.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - no prctl in this libc
        return
    if os.getppid() != parent:
        os._exit(1)


def start_method():
    """How an owned process pool starts its workers: ``"fork"`` or ``"spawn"``.

    ``"fork"`` on Linux when the calling process runs one thread (its workers
    inherit the imported modules, the compiled kernels and the cached Kwant
    systems: a few milliseconds instead of ~0.7 s), ``"spawn"`` otherwise
    (other platforms, or a caller with threads: a forked child holds copies of
    their locks, which may never be released).
    """
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "spawn"


#: Start-up of one pool worker (s) by start method: fork (measured ~0.02 s with the pool's
#: first task) and spawn (a new interpreter, imports, the compiled kernels from the on-disk
#: cache and its first Kwant system: 0.7 s measured on 2 CPUs).
WORKER_STARTUP_S = {"fork": 0.05, "spawn": 0.7}


def _evaluate(func, todo, pool, record):
    """Call ``record(key, func(point))`` for each ``(key, point)``, in completion order."""
    if pool is None:
        for key, point in todo:
            record(key, func(point))
        return
    transport = not isinstance(pool, ThreadPoolExecutor)  # another process: bring warnings back
    call = _WithWarnings(func) if transport else func
    registry = {}  # identical warnings from several workers are shown once
    finished = queue.SimpleQueue()
    futures = []
    try:
        for key, point in todo:
            future = pool.submit(call, point)
            future.add_done_callback(lambda done, key=key: finished.put((key, done)))
            futures.append(future)
        for _ in futures:
            key, future = finished.get()
            result = future.result()
            if transport:
                result, caught = result
                _reissue(caught, registry)
            record(key, result)
    finally:
        for future in futures:
            future.cancel()


class _Chunk:
    """``call`` mapped over a list of points (one task of the pool for several points)."""

    def __init__(self, call):
        self.call = call

    def __call__(self, points):
        return [self.call(point) for point in points]


#: Tasks in flight per pool worker (one running, one queued behind it).
IN_FLIGHT = 2
#: Target duration of one pool task (s): points are grouped until a task takes about this
#: long (by the caller's own timing of the points it computed), so that the per-task
#: overhead of a process pool (pickling, IPC: ~1 ms) stays a few per cent.
TASK_S = 0.05


def _evaluate_alongside(func, todo, pool, record):
    """Like :func:`_evaluate` with an owned process pool, the calling process computing too.

    The pool takes points from the front of the list (:data:`IN_FLIGHT` tasks per worker,
    each of as many points as take about :data:`TASK_S` by the caller's timing, fewer near
    the end), the caller from the back.  When the caller has nothing left, tasks the
    pool has not started are cancelled and computed here; then it waits for the ones
    running.  Never slower than the caller alone by more than the last running task.
    """
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, wait

    import time

    pending = deque(todo)
    call = _Chunk(_WithWarnings(func))
    workers = pool._max_workers
    inflight = {}  # future -> [(key, point)]
    registry = {}
    local = [0, 0.0]  # points computed here, seconds spent on them

    def top_up():
        while pending and len(inflight) < IN_FLIGHT * workers:
            cost = local[1] / local[0] if local[0] else TASK_S
            size = max(1, min(int(TASK_S / max(cost, 1e-6)),
                              len(pending) // (2 * IN_FLIGHT * (workers + 1))))
            chunk = [pending.popleft() for _ in range(min(size, len(pending)))]
            inflight[pool.submit(call, [point for _, point in chunk])] = chunk

    def harvest(futures):
        for future in futures:
            chunk = inflight.pop(future)
            for (key, _), (result, caught) in zip(chunk, future.result()):
                _reissue(caught, registry)
                record(key, result)

    try:
        top_up()
        while pending or inflight:
            harvest([f for f in list(inflight) if f.done()])
            if pending:
                key, point = pending.pop()
                start = time.perf_counter()
                result = func(point)
                local[0] += 1
                local[1] += time.perf_counter() - start
                record(key, result)
                top_up()
                continue
            for future in list(inflight):  # take back what the pool has not started
                if future.cancel():
                    pending.extend(inflight.pop(future))
            if not pending and inflight:
                harvest(wait(list(inflight), return_when=FIRST_COMPLETED).done)
    finally:
        for future in inflight:
            future.cancel()


# -- warnings from worker processes -------------------------------------------------------------

_capture = threading.local()  # .sink: the list that collects this thread's warnings


def _collect_warning(message, category, filename, lineno, file=None, line=None):
    """``warnings.showwarning`` in a worker: collect into the thread's sink if it has one."""
    sink = getattr(_capture, "sink", None)
    if sink is None:
        return _collect_warning.previous(message, category, filename, lineno, file, line)
    try:
        pickle.dumps(category)
    except Exception:  # a category defined where the caller cannot import it
        category = UserWarning
    sink.append((str(message), category, str(filename), int(lineno)))
    return None


_collect_warning.previous = warnings.showwarning


class _WithWarnings:
    """``func`` for another process: returns ``(func(point), [warnings issued meanwhile])``.

    Each warning is ``(message, category, filename, lineno)``.  Collection is
    per thread (a dask worker runs several points at once in threads), through
    ``warnings.showwarning``, so the worker's filters still decide what is
    shown, as they would in the caller.
    """

    def __init__(self, func):
        self.func = func

    def __call__(self, point):
        if warnings.showwarning is not _collect_warning:
            _collect_warning.previous = warnings.showwarning
            warnings.showwarning = _collect_warning
        outer = getattr(_capture, "sink", None)
        _capture.sink = caught = []
        try:
            result = self.func(point)
        finally:
            _capture.sink = outer
        return result, caught


def _reissue(caught, registry):
    """Issue the warnings of a worker again here (the caller's filters and format apply)."""
    for message, category, filename, lineno in caught:
        warnings.warn_explicit(message, category, filename, lineno, registry=registry)


def _progress_bar(enabled, total, initial, desc, unit="pt"):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    # disable=None: a bar on a terminal only, so that logs of batch jobs stay readable.
    return tqdm(total=total, initial=initial, desc=desc, unit=unit, leave=False, file=sys.stderr,
                disable=None)
