"""Cost of one (E, k) point of a disordered supercell: block RGF against Kwant (issue 15).

Run:  .venv/bin/python benchmarks/bench_supercell.py [--sizes 2 4 8] [--repeat 3]
      [--configuration [--config-sizes 2 4] [--rtol 1e-2] [--configurations 20]]

The bundled tight-binding F/I/F (``tb_fif``) on an L × L supercell with Anderson disorder
W = 1 eV in the barrier, one window point (E = E_F, θ = 63°, 0.1 V, k = (0.3, 0.2)/nm):
the block recursive Green's functions of :func:`mtj_kwant.supercell.window_blocks`
(particle and spin currents on every bond, spin densities on every site; blocks read from
Kwant, lead self-energies from plane waves) against Kwant computing the same from its
scattering states (``kwant.wave_function`` with density and current operators for 1 and
σx, σy, σz).  Minimum of ``--repeat`` after a warm-up; the ratio is Kwant's time over the
solver's; the peak memory is the process's.  "batched ms" is the cost per momentum when 64
momenta go through :class:`mtj_kwant.supercell.ZoneBlocks` at once (blocks assembled from
five reads of Kwant, one stacked RGF), as the adaptive zone average runs them.

With ``--configuration``, a second table: one disorder configuration of the bundled
``tb_fifn`` (interface mixing 0.5 at the F/N interface) by :func:`supercell_point`,
adaptive zone average at ``--rtol``: linear response (one energy), and the window at
0.1 V (adaptive energy integral with the resonance search per k): k points, wall time,
and the core-hours of the configuration averages a user would run (``--configurations``
configurations per bias point, relative error rtol of the zone average; the statistical
error of the mean then falls as 1/√configurations).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np


def _best(func, repeat):
    func()
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None):
    import kwant

    import mtj_kwant as mk
    from mtj_kwant.supercell import make_supercell_system, window_blocks

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2, 4, 8])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--configuration", action="store_true",
                    help="also time whole configurations (adaptive zone average)")
    ap.add_argument("--config-sizes", type=int, nargs="+", default=[2, 4])
    ap.add_argument("--rtol", type=float, default=1e-2)
    ap.add_argument("--configurations", type=int, default=20)
    args = ap.parse_args(argv)
    base = mk.load_junction("tb_fif")
    theta, bias, ky, kz = 1.1, 0.1, 0.3, 0.2
    pauli = [np.eye(2), np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]),
             np.diag([1, -1])]
    from mtj_kwant.supercell import ZoneBlocks

    print(f"{'L':>3} {'sites':>6} {'orbitals/layer':>14} {'blocks ms':>10} {'batched ms':>10} "
          f"{'Kwant ms':>9} {'Kwant/blocks':>12} {'Kwant/batched':>13} {'peak MiB':>9}")
    for size in args.sizes:
        j = mk.junction_with(base, {"supercell.size": [size, size],
                                    "layer[0].disorder.onsite": 1.0})
        ss = make_supercell_system(j, seed=1)
        energy = j.fermi_energy
        params = ss.params(theta, 0.0, bias, ky, kz)
        ops = ([kwant.operator.Density(ss.fsyst, s) for s in pauli]
               + [kwant.operator.Current(ss.fsyst, s) for s in pauli])

        def ours():
            window_blocks(ss, energy, theta=theta, bias=bias, k_y=ky, k_z=kz)

        def theirs():
            for psi in kwant.wave_function(ss.fsyst, energy, params=params)(0):
                for op in ops:
                    op(psi, params=params)

        zone = ZoneBlocks(ss, theta=theta, bias=bias)
        ks = np.random.default_rng(0).uniform(-1, 1, (64, 2)) * np.pi / (size * ss.a)

        def batched():
            zone.window(ks, energy)

        t_ours, t_kwant = _best(ours, args.repeat), _best(theirs, args.repeat)
        t_batch = _best(batched, args.repeat) / len(ks)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{size:>3} {ss.order.size:>6} {2 * size * size:>14} {t_ours * 1e3:>10.2f} "
              f"{t_batch * 1e3:>10.3f} {t_kwant * 1e3:>9.1f} {t_kwant / t_ours:>12.1f} "
              f"{t_kwant / t_batch:>13.1f} {peak:>9.0f}")
    if args.configuration:
        configuration_table(args)


def configuration_table(args):
    """Whole configurations: k points, wall time and the core-hours of averages."""
    import mtj_kwant as mk
    from mtj_kwant.supercell import supercell_point

    base = mk.load_junction("tb_fifn")
    print()
    print(f"one configuration of tb_fifn (interface mixing 0.5), rtol {args.rtol:g}; "
          f"core-hours for {args.configurations} configurations per bias point")
    print(f"{'L':>3} {'route':>16} {'k points':>9} {'s/config':>9} {'ms/k':>7} "
          f"{'core-h':>7}")
    for size in args.config_sizes:
        j = mk.junction_with(base, {"supercell.size": [size, size],
                                    "layer[2].disorder.interface_mixing": 0.5})
        for route, kw in (("linear response", dict(linear_response=True)),
                          ("window 0.1 V", dict(bias=0.1))):
            start = time.perf_counter()
            r = supercell_point(j, theta=np.pi / 2, rtol=args.rtol, seed=1, **kw)
            wall = time.perf_counter() - start
            hours = wall * args.configurations / 3600
            print(f"{size:>3} {route:>16} {r.n_k:>9} {wall:>9.1f} {wall / r.n_k * 1e3:>7.2f} "
                  f"{hours:>7.2f}", flush=True)


if __name__ == "__main__":
    main()
