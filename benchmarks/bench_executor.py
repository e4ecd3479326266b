"""Executor policy: wall time of scans run serially, by the "auto" policy and on a pool.

Run:  .venv/bin/python benchmarks/bench_executor.py [--points 41 200] [--repeat 2]

Each row is a fresh process (Python start-up and imports excluded from the time, the
compiled kernels' cache load and the chain's blocks included, as a user's first scan in a
session), computing a window scan of the bundled ``fe_mgo_fe`` junction over bias and
angle at the default tolerance (continuum limit).  The pool's workers are forked on Linux
(``mtj_kwant.runner.start_method``), spawned elsewhere:

- ``serial``: every point in the calling process;
- ``auto``: the default (the first points timed here; a pool, the caller computing beside
  it, only when the remaining work exceeds a worker's start-up);
- ``pool``: ``executor=None`` forced (the caller and one worker per further CPU).

The table prints the wall time, the time per point and the ratio serial/x (> 1: faster
than serial), the minimum over ``--repeat`` runs.  The policy's aim (issue: never more
than 10 % slower than serial; at least 1.6x on 2 CPUs for a few hundred points).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time
from concurrent.futures import ProcessPoolExecutor


def _scan(args):
    n, executor = args
    import warnings

    import numpy as np

    import mtj_kwant as mk

    warnings.simplefilter("ignore")
    n_theta = 5
    biases = list(np.linspace(-0.4, 0.4, max(1, n // n_theta)))
    thetas = list(np.linspace(20, 160, n_theta))
    start = time.perf_counter()
    table = mk.scan("fe_mgo_fe", bias=biases, theta=np.radians(thetas), executor=executor,
                    progress=False)
    return time.perf_counter() - start, len(table)


def _fresh(args):
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as ex:
        return ex.submit(_scan, args).result()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, nargs="+", default=[40, 200])
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    print(f"CPUs: {os.cpu_count()}; fe_mgo_fe window scans (bias x 5 angles), fresh process "
          f"per row, minimum of {args.repeat}")
    print(f"{'points':>6}  {'executor':<8} {'wall (s)':>9} {'per point (ms)':>15} "
          f"{'serial/x':>9}")
    for n in args.points:
        serial = None
        for name, executor in (("serial", "serial"), ("auto", "auto"), ("pool", None)):
            runs = [_fresh((n, executor)) for _ in range(args.repeat)]
            wall = min(r[0] for r in runs)
            points = runs[0][1]
            serial = wall if serial is None else serial
            print(f"{points:>6}  {name:<8} {wall:>9.2f} {1e3 * wall / points:>15.1f} "
                  f"{serial / wall:>9.2f}", flush=True)


if __name__ == "__main__":
    main()
