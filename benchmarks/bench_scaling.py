"""Cost of one converged bias point versus the number of sites, and where the time goes.

Run:  .venv/bin/python benchmarks/bench_scaling.py [--thickness 1 2 5 10 20] [--steps 0.01 0.005]
                                                   [--rtol 1e-3 1e-6] [--repeat 2]

The bundled F/I/F/N junction (``fifn_2nm``) with its free layer 1 … 20 nm thick, on a fixed
lattice (two steps), one window point at 0.1 V and θ = 90° (the E_x reduction), at two
tolerances.  Each row: sites N, solver evaluations, wall time per converged point (minimum of
``--repeat``, after a warm-up), the cost per evaluation and site, the share of that time
inside the compiled kernels (window, log det, and the sea kernel of the detours around
states narrower than the real axis resolves: the batched solver's calls, timed), and the
resonances found.  Below the table, the exponents p of wall ∝ N^p, of evaluations ∝ N^p
and of wall per evaluation ∝ N^p, fitted over the rows with N > 300 for each (step, rtol):
the solver's cost per evaluation is O(N) (p ≈ 1 or below, overheads amortised), the number
of evaluations grows with the quasi-bound states of the free layer (∝ d).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def _point(junction, rtol):
    import mtj_kwant as mk
    from mtj_kwant.integrate import bias_point
    from mtj_kwant.solvers import ChainSolver

    js = mk.make_system(junction)
    spent = {"kernel": 0.0}
    originals = {name: getattr(ChainSolver, name)
                 for name in ("bond_window", "log_det", "bond_sea")}

    def timed(func):
        def wrapper(self, *args, **kw):
            start = time.perf_counter()
            try:
                return func(self, *args, **kw)
            finally:
                spent["kernel"] += time.perf_counter() - start
        return wrapper

    for name, func in originals.items():
        setattr(ChainSolver, name, timed(func))
    try:
        start = time.perf_counter()
        r = bias_point(js, theta=np.pi / 2, bias=0.1, rtol=rtol)
        wall = time.perf_counter() - start
    finally:
        for name, func in originals.items():
            setattr(ChainSolver, name, func)
    return js.chain.n_sites, r.n_eval, wall, spent["kernel"] / wall, len(r.resonances)


def main(argv=None):
    import mtj_kwant as mk

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--thickness", type=float, nargs="+", default=[1, 2, 5, 10, 20])
    ap.add_argument("--steps", type=float, nargs="+", default=[0.01, 0.005])
    ap.add_argument("--rtol", type=float, nargs="+", default=[1e-3, 1e-6])
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    base = mk.load_junction("fifn_2nm")
    _point(base.at_spacing(0.025), 1e-3)  # warm-up: kernels from the cache
    print("fifn_2nm, free layer d, one window point at 0.1 V, θ = 90°, minimum of "
          f"{args.repeat}")
    print(f"{'step nm':>7} {'rtol':>6} {'d nm':>5} {'sites':>6} {'evals':>8} {'wall ms':>9} "
          f"{'ns/eval/site':>12} {'kernels':>8} {'resonances':>10}")
    for a in args.steps:
        for rtol in args.rtol:
            rows = []
            for d in args.thickness:
                junction = mk.junction_with(base, {"layer[1].thickness": d}).at_spacing(a)
                runs = [_point(junction, rtol) for _ in range(args.repeat)]
                n, n_eval, wall, share, n_res = min(runs, key=lambda r: r[2])
                rows.append((n, wall, n_eval))
                print(f"{a:>7g} {rtol:>6g} {d:>5g} {n:>6} {n_eval:>8} {1e3 * wall:>9.1f} "
                      f"{1e9 * wall / n_eval / n:>12.2f} {100 * share:>7.0f}% {n_res:>10}",
                      flush=True)
            big = np.array([r for r in rows if r[0] > 300], float)
            if len(big) >= 2:
                fit = [np.polyfit(np.log(big[:, 0]), np.log(y), 1)[0]
                       for y in (big[:, 1], big[:, 2], big[:, 1] / big[:, 2])]
                print(f"{'':>7} {'':>6} over N > 300: wall ∝ N^{fit[0]:.2f}, evaluations ∝ "
                      f"N^{fit[1]:.2f}, wall per evaluation ∝ N^{fit[2]:.2f}")


if __name__ == "__main__":
    main()
