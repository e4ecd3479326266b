"""Cost per (E, k∥) point: batched Green's-function kernels versus Kwant scattering states.

Run:  .venv/bin/python benchmarks/bench_solver.py [--sites 150] [--kwant-points 40]

Builds a free-electron F/I/F/N chain with the requested number of sites
(barrier, free layer, normal cap) and times, in the same run:

- ``kwant``: ``kwant.wave_function`` with bound spin Density/Current operators
  (KwantSolver.incoming), the plain Kwant path, one point at a time;
- ``batched window``: states incoming from the left, particle and spin
  currents at the free layer's two bonds (what a sweep integrates);
- ``batched profile``: the same on every bond and site;
- ``batched sea``: the analytic h(z) at complex energies (Fermi sea);
- ``log det``: one forward recursion (resonance finder, Lloyd's formula).

Each stage runs in a fresh process so that its peak resident memory can be
reported; compile time of the kernels (cached on disk) is excluded by a
warm-up call.  Timings are medians of repeats.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import time

import numpy as np


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
    if name == "kwant":
        ks = KwantSolver(jsys, theta=np.pi / 2, bias=0.1)  # operators bound once
    call = {
        "kwant": lambda: ks.incoming(0, energies, eps),
        "batched window": lambda: cs.bond_window(0, energies, eps, bonds),
        "batched profile": lambda: cs.incoming(0, energies, eps),
        "batched sea": lambda: cs.bond_sea(energies + 0.05j, eps, bonds),
        "log det": lambda: cs.log_det(energies, eps),
    }[name]
    call()  # warm-up (kernel compilation or cache load, Kwant's first call)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return statistics.median(times) / n_points, peak_mb


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=150)
    parser.add_argument("--kwant-points", type=int, default=40)
    parser.add_argument("--batch", type=int, default=20000)
    args = parser.parse_args(argv)
    stages = [("kwant", args.kwant_points, 3), ("batched window", args.batch, 5),
              ("batched profile", args.batch // 10, 3), ("batched sea", args.batch, 5),
              ("log det", args.batch, 5)]
    ctx = mp.get_context("spawn")
    rows = []
    for name, n_points, repeats in stages:
        with ctx.Pool(1) as pool:
            cost, peak = pool.apply(_stage, ((name, args.sites, n_points, repeats),))
        rows.append((name, n_points, cost, peak))
    kwant_cost = rows[0][2]
    print(f"Cost per (E, k∥) point, {args.sites}-site chain (spin ½), median of repeats")
    print(f"{'path':<18}{'points/call':>12}{'µs/point':>12}{'Kwant/this':>12}{'peak RSS MB':>13}")
    for name, n_points, cost, peak in rows:
        print(f"{name:<18}{n_points:>12}{cost * 1e6:>12.2f}{kwant_cost / cost:>12.0f}"
              f"{peak:>13.0f}")


if __name__ == "__main__":
    main()
