"""Cost of one (E, k) point of a disordered supercell: block RGF against Kwant (issue 15).

Run:  .venv/bin/python benchmarks/bench_supercell.py [--sizes 2 4 8] [--repeat 3]

The bundled tight-binding F/I/F (``tb_fif``) on an L × L supercell with Anderson disorder
W = 1 eV in the barrier, one window point (E = E_F, θ = 63°, 0.1 V, k = (0.3, 0.2)/nm):
the block recursive Green's functions of :func:`mtj_kwant.supercell.window_blocks`
(particle and spin currents on every bond, spin densities on every site; blocks read from
Kwant, lead self-energies from plane waves) against Kwant computing the same from its
scattering states (``kwant.wave_function`` with density and current operators for 1 and
σx, σy, σz).  Minimum of ``--repeat`` after a warm-up; the ratio is Kwant's time over the
solver's; the peak memory is the process's.
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
    args = ap.parse_args(argv)
    base = mk.load_junction("tb_fif")
    theta, bias, ky, kz = 1.1, 0.1, 0.3, 0.2
    pauli = [np.eye(2), np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]),
             np.diag([1, -1])]
    print(f"{'L':>3} {'sites':>6} {'orbitals/layer':>14} {'blocks ms':>10} {'Kwant ms':>9} "
          f"{'Kwant/blocks':>12} {'peak MiB':>9}")
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

        t_ours, t_kwant = _best(ours, args.repeat), _best(theirs, args.repeat)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{size:>3} {ss.order.size:>6} {2 * size * size:>14} {t_ours * 1e3:>10.2f} "
              f"{t_kwant * 1e3:>9.1f} {t_kwant / t_ours:>12.1f} {peak:>9.0f}")


if __name__ == "__main__":
    main()
