"""Functions evaluated by tests/test_runner.py (importable by worker processes).

Run as a script, it is the run that tests/test_runner.py kills with SIGKILL::

    python -m tests.runner_funcs STORE LOG N_POINTS DELAY_S
"""

import math
import sys
import time
from functools import partial

import numpy as np

from mtj_kwant.runner import run_points


class PointFailed(RuntimeError):
    """Raised by :func:`failing` for the point it is told to fail on."""


def compute(point):
    """Deterministic results of every supported type (NumPy scalars on purpose)."""
    x, i = point["x"], point["i"]
    return {
        "y": np.sin(x) * np.exp(-x / 7.0) + i / 3.0,
        "n": np.int64(i * i - 3),
        "even": np.bool_(i % 2 == 0),
        "label": f"p{i}",
        "plain": math.cos(x) / 3.0,
    }


def logged(point, log, delay=0.0):
    """:func:`compute` after logging the call (one line per call) and sleeping `delay`."""
    with open(log, "a", encoding="utf-8") as file:
        file.write(f"{point['i']}\n")
    time.sleep(delay)
    return compute(point)


def failing(point, fail_on, delay=0.0):
    """:func:`compute`, but raises :class:`PointFailed` for ``i == fail_on`` after `delay`."""
    if point["i"] == fail_on:
        time.sleep(delay)
        raise PointFailed(f"point {fail_on} failed")
    return compute(point)


class PointWarning(UserWarning):
    """Issued by :func:`warning` (a category the calling process can import)."""


def warning(point):
    """:func:`compute`, after a warning that names the point (even points also a shared one)."""
    import warnings

    warnings.warn(f"point {point['i']} is suspicious", PointWarning)
    if point["i"] % 2 == 0:
        warnings.warn("even points share this warning", PointWarning)
    return compute(point)


def make_points(n):
    return [{"i": i, "x": 0.1 * i + 1.0 / 3.0} for i in range(n)]


def read_log(log):
    with open(log, encoding="utf-8") as file:
        return [int(line) for line in file.read().split()]


def main(argv):
    store, log, n, delay, *executor = argv
    executor = int(executor[0]) if executor else "serial"
    func = partial(logged, log=log, delay=float(delay))
    run_points(func, make_points(int(n)), executor=executor, store=store, progress=False)


if __name__ == "__main__":
    main(sys.argv[1:])
