"""Cost per (E, k∥) point: batched Green's-function kernels versus Kwant scattering states.

Run:  .venv/bin/python benchmarks/bench_solver.py [--sites 150] [--kwant-points 40] [--cold]

Builds a free-electron F/I/F/N chain with the requested number of sites
(barrier, free layer, normal cap) and times, in the same run:

- ``kwant``: ``kwant.wave_function`` with bound spin Density/Current operators
  (KwantSolver.incoming), the plain Kwant path, one point at a time;
- ``batched window``: states incoming from the left, particle and spin
  currents at the free layer's two bonds (what a sweep integrates);
- ``batched profile``: the same on every bond and site (ChainSolver.incoming:
  the kernel and NumPy's torque and dictionary);
- ``profile kernel``: the window kernel alone on every bond and site
  (``bond_window(..., sites=True)``);
- ``batched sea``: the analytic h(z) at complex energies (Fermi sea), free
  layer bonds; ``sea profile``: every bond and site;
- ``log det``: one forward recursion (resonance finder, Lloyd's formula);
- ``coupling``: the coupling determinant of the two halves (Fermi-sea torque).

Each stage runs in a fresh process so that its peak resident memory can be
reported; its first call (kernel compilation, or loading from numba's cache;
with ``--cold`` a fresh cache, so compilation) is timed apart, then the
minimum over repeats is reported (the machine is shared: the minimum is the
cost, the rest is other people's load).  ``before`` is the same benchmark run
with the kernels before they were vectorised (``BEFORE`` below), ``× bound``
the time over the flop bound: the stage's floating-point operations per
point (``flops``) at the rate of a single-threaded dgemm measured in the same
run.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import tempfile
import time

import numpy as np

#: µs per point of the kernels before they were vectorised (mtj_kwant/_rgf.py at ab152ff:
#: scalar complex numba loops, outputs allocated by numba), this benchmark, 150 sites, the
#: minimum of five runs on 2026-11-30 on the shared 2-core AMD EPYC (Zen 5, AVX-512) test
#: machine (Kwant: 7600 to 14400 µs per point in the same runs).
BEFORE = {"kwant": None, "batched window": 5.40, "batched profile": 17.21,
          "profile kernel": 14.73, "batched sea": 8.64, "sea profile": 34.09,
          "log det": 4.42, "coupling": 3.20}
#: The sum of the stages' first calls then (seconds): kernels loaded from numba's cache,
#: and compiled into a fresh cache (--cold).
BEFORE_FIRST = {"cache": 1.44, "cold": 5.95}


def make_junction(n_sites):
    from mtj_kwant.model import Electrode, Junction, Layer

    a = 0.025
    body = n_sites - 4  # two electrode sites on each side
    barrier = 40
    free = (body - barrier) // 2
    cap = body - barrier - free
    return Junction(
        name=f"benchmark chain, {n_sites} sites", model="free-electron", fermi_energy=2.62,
        effective_mass=1.0, lattice_spacing=a,
        left=Electrode(potential=0.0, exchange=3.86, magnetization=(0, 0, 1)),
        layers=[Layer(kind="barrier", thickness=barrier * a, potential=3.62, exchange=0.0),
                Layer(kind="metal", thickness=free * a, potential=0.0, exchange=3.86, free=True),
                Layer(kind="metal", thickness=cap * a, potential=0.0, exchange=0.0)],
        right=Electrode(potential=0.0, exchange=0.0))


def flops(name, n, bonds):
    """Floating-point operations per point of a stage (+ − × ÷ sqrt, counted in mtj_kwant._rgf).

    Per point: both lead self-energies 300 (two channels of 35 each and U diag U† of 80 per
    lead); per site of a recursion 66 (pivot 22, determinant 14, inverse 30; 106 with
    log det's logarithm and written-out atan2); per step of the column G_{j,0} 64; per bond
    of the window 140 (two block products and the four |·|), per site 116; for the sea,
    G_jj from both sides 80, per bond 136 more, per site 16 more; per site of the coupling's
    Pauli recursion 75.
    """
    lo, hi = int(min(bonds)), int(max(bonds))
    if name == "kwant":
        return None
    if name == "batched window":
        return 308 + 66 * n + 64 * (hi + 1) + 140 * len(bonds)
    if name in ("batched profile", "profile kernel"):
        return 308 + 66 * n + 64 * (n - 1) + 140 * (n - 1) + 116 * n
    if name == "batched sea":
        return 300 + 66 * (hi + n - 1 - lo) + 216 * len(bonds)
    if name == "sea profile":
        return 300 + 66 * 2 * (n - 1) + 216 * (n - 1) + 96 * n
    if name == "log det":
        return 300 + 106 * n
    if name == "coupling":
        return 300 + 75 * n + 70
    raise ValueError(name)


def _dgemm_rate(_):
    """GFLOP/s of a single-threaded dgemm (the best of sizes 256 and 512, best of 5)."""
    best = 0.0
    for m in (256, 512):
        a, b = np.random.default_rng(0).random((2, m, m))
        a @ b
        for _ in range(5):
            start = time.perf_counter()
            a @ b
            best = max(best, 2 * m ** 3 / (time.perf_counter() - start) / 1e9)
    return best


def _stage(args):
    name, n_sites, n_points, repeats = args
    import mtj_kwant as mk
    from mtj_kwant.solvers import ChainSolver, KwantSolver

    jsys = mk.make_system(make_junction(n_sites))
    assert jsys.chain.n_sites == n_sites, jsys.chain.n_sites
    rng = np.random.default_rng(0)
    energies = rng.uniform(-1.5, 2.6, n_points)
    eps = rng.uniform(0.0, 1.0, n_points)
    cs = ChainSolver(jsys, theta=np.pi / 2, bias=0.1)
    bonds = np.array(jsys.chain.free_bonds)
    every = np.arange(n_sites - 1)
    cut = cs.coupling_bond()
    if name == "kwant":
        ks = KwantSolver(jsys, theta=np.pi / 2, bias=0.1)  # operators bound once
    call = {
        "kwant": lambda: ks.incoming(0, energies, eps),
        "batched window": lambda: cs.bond_window(0, energies, eps, bonds),
        "batched profile": lambda: cs.incoming(0, energies, eps),
        "profile kernel": lambda: cs.bond_window(0, energies, eps, every, sites=True),
        "batched sea": lambda: cs.bond_sea(energies + 0.05j, eps, bonds),
        "sea profile": lambda: cs.bond_sea(energies + 0.05j, eps, every, sites=True),
        "log det": lambda: cs.log_det(energies, eps),
        "coupling": lambda: cs.coupling(energies + 0.05j, eps, cut),
    }[name]
    start = time.perf_counter()
    call()  # first call: kernel compilation or cache load (Kwant's first call)
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return min(times) / n_points, first, peak_mb, flops(name, n_sites, bonds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=150)
    parser.add_argument("--kwant-points", type=int, default=40)
    parser.add_argument("--batch", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cold", action="store_true",
                        help="a fresh numba cache: the first calls compile the kernels")
    args = parser.parse_args(argv)
    b, r = args.batch, args.repeats
    stages = [("kwant", args.kwant_points, 3), ("batched window", b, r),
              ("batched profile", b // 10, r), ("profile kernel", b // 10, r),
              ("batched sea", b, r), ("sea profile", b // 10, r), ("log det", b, r),
              ("coupling", b, r)]
    ctx = mp.get_context("spawn")
    env = dict(os.environ)
    cache = tempfile.TemporaryDirectory() if args.cold else None
    try:
        if cache is not None:
            os.environ["NUMBA_CACHE_DIR"] = cache.name
        os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = "1"
        with ctx.Pool(1) as pool:  # the flop rate of one core
            rate = pool.apply(_dgemm_rate, (None,))
        for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
            if key in env:
                os.environ[key] = env[key]
            else:
                del os.environ[key]
        rows = []
        for name, n_points, repeats in stages:
            with ctx.Pool(1) as pool:
                rows.append((name, n_points) + pool.apply(
                    _stage, ((name, args.sites, n_points, repeats),)))
    finally:
        os.environ.clear()
        os.environ.update(env)
        if cache is not None:
            cache.cleanup()
    kwant_cost = rows[0][2]
    same = args.sites == 150
    print(f"Cost per (E, k∥) point, {args.sites}-site chain (spin ½), minimum of repeats; "
          f"dgemm (1 thread) {rate:.1f} GFLOP/s")
    print(f"{'path':<17}{'points':>7}{'µs/point':>10}{'before':>8}{'speed-up':>9}"
          f"{'Kwant/this':>11}{'flop/pt':>9}{'× bound':>8}{'first s':>8}{'RSS MB':>7}")
    total_first = 0.0
    for name, n_points, cost, first, peak, flop in rows:
        before = BEFORE.get(name) if same else None
        if name != "kwant":
            total_first += first
        print(f"{name:<17}{n_points:>7}{cost * 1e6:>10.2f}"
              f"{before if before is not None else float('nan'):>8.2f}"
              f"{before / (cost * 1e6) if before else float('nan'):>9.1f}"
              f"{kwant_cost / cost:>11.0f}"
              f"{flop if flop else 0:>9d}"
              f"{cost / (flop / (rate * 1e9)) if flop else float('nan'):>8.2f}"
              f"{first:>8.2f}{peak:>7.0f}")
    before = f"; before: {BEFORE_FIRST['cold' if args.cold else 'cache']:.2f} s" if same else ""
    print(f"first calls of the kernels, all stages: {total_first:.2f} s "
          f"({'compilation, fresh cache' if args.cold else 'numba cache'}{before})")


if __name__ == "__main__":
    main()
