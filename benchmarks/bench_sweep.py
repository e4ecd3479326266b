"""Wall time of converged bias sweeps (window and total), and the Kwant path for comparison.

Run:  .venv/bin/python benchmarks/bench_sweep.py [--skip-kwant]

Measures on this machine, each in a fresh process (peak resident memory per
row):

0. start-up: a bare interpreter, ``import mtj_kwant``, the compiled kernels' first calls
   and one bias point from the shell;
1. ``mtj-kwant sweep SYSTEM --bias=-0.5:0.5:41 --parts both`` from the shell
   (Python start-up, imports and the on-disk kernel cache included), for the
   bundled F/I/F/N junction (mtj_kwant/systems/fifn_2nm.toml, 2 nm free layer) and the
   same junction with a 1 nm free layer (the issue's ~100-site case), default
   tolerance (rtol 1e-3) and the default executor;
2. the same sweeps in-process after a warm-up, serial and on a local process
   pool with one worker per CPU;
3. one window point at 0.2 V with the Kwant scattering-state solver and with
   the batched solver, same tolerance: the ratio is the speed-up on a real
   integral, not only per point;
4. continuum-accurate sweeps (the default: nested lattices extrapolated to
   a → 0, quadrature + discretisation within rtol) beside fixed-lattice ones
   at the former default step 0.025 nm (quadrature only; their discretisation
   error is estimated from a second lattice and reported separately), for
   uniform-mass and per-layer-mass junctions: wall time, evaluations, and how
   far the fixed lattice lies from the continuum.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIFN = ROOT / "mtj_kwant" / "systems" / "fifn_2nm.toml"
BIASES = [-0.5 + i * 0.025 for i in range(41)]


def _junction(free_nm):
    import mtj_kwant as mk

    junction = mk.load_junction(FIFN)
    return mk.junction_with(junction, {"layer[1].thickness": free_nm})


def _in_process(args):
    free_nm, executor = args
    import mtj_kwant as mk

    junction = _junction(free_nm)
    mk.sweep(junction, [0.1], parts="both", executor="serial", progress=False)  # warm-up
    start = time.perf_counter()
    r = mk.sweep(junction, BIASES, parts="both", executor=executor, progress=False)
    wall = time.perf_counter() - start
    sites = mk.make_system(junction).chain.n_sites
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return wall, sites, sum(r.n_eval), all(r.converged), peak


def _kwant_point(solver):
    import math

    import mtj_kwant as mk
    from mtj_kwant.integrate import window_point

    jsys = mk.make_system(_junction(2.0).at_spacing(0.025))  # one lattice, as Kwant's
    window_point(jsys, theta=math.pi / 2, bias=0.2, solver="batched")  # warm-up
    start = time.perf_counter()
    r = window_point(jsys, theta=math.pi / 2, bias=0.2, solver=solver, rtol=1e-3)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return wall, r.n_eval, r.current_density, peak


def _cli(free_nm, tmp):
    system = Path(tmp) / f"fifn_{free_nm}nm.toml"
    import mtj_kwant as mk

    toml = Path(FIFN).read_text()
    system.write_text(toml if free_nm == 2.0 else toml.replace("thickness = 2.0",
                                                                f"thickness = {free_nm}"))
    assert mk.load_junction(system).layers[1].thickness == free_nm
    out = Path(tmp) / f"s{free_nm}.json"
    cmd = [str(ROOT / ".venv" / "bin" / "mtj-kwant"), "sweep", str(system), "--bias=-0.5:0.5:41",
           "--parts", "both", "--quiet", "--fresh", "--output", str(out)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return wall, peak


CONTINUUM_CASES = (("fe_mgo_fe", "mtj_kwant/systems/fe_mgo_fe.toml"), ("fifn_2nm", "mtj_kwant/systems/fifn_2nm.toml"),
                   ("cofeb (masses)", "mtj_kwant/systems/cofeb_mgo_cofeb.toml"))


def _continuum_vs_fixed(args):
    path, step = args
    import numpy as np

    import mtj_kwant as mk

    junction = mk.load_junction(ROOT / path)
    if step is not None:
        junction = junction.at_spacing(step)
    biases = [-0.5 + i * 0.05 for i in range(21)]
    with warnings.catch_warnings():  # the fixed lattice warns of its discretisation error
        warnings.simplefilter("ignore")
        mk.sweep(junction, [0.1], executor="serial", progress=False)  # warm-up
        start = time.perf_counter()
        r = mk.sweep(junction, biases, parts="window", executor="serial", progress=False)
        wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    keys = ("current_density", "torque_inplane_window", "torque_outofplane_window")
    values = {k: np.asarray(getattr(r, k)) for k in keys}
    lattice = {k: np.asarray(r.lattice_errors[k]) for k in keys}
    return wall, sum(r.n_eval), min(r.lattice_spacing_nm), values, lattice, peak


def _continuum_table(ctx):
    import numpy as np

    print()
    print("21-point window sweeps, -0.5 ... 0.5 V, rtol 1e-3: continuum (default) vs the fixed "
          "step 0.025 nm")
    print("(dev: largest |fixed - continuum| relative to |J| and to the larger torque; "
          "lat: the fixed lattice's reported discretisation error, same scale)")
    print(f"{'junction':<16}{'run':<18}{'finest a nm':>12}{'evals':>9}{'wall s':>9}"
          f"{'dev J':>9}{'dev T':>9}{'lat T':>9}{'peak RSS MB':>13}")
    for name, path in CONTINUUM_CASES:
        cont = _fresh(ctx, _continuum_vs_fixed, (path, None))
        fixed = _fresh(ctx, _continuum_vs_fixed, (path, 0.025))
        vc, vf, lf = cont[3], fixed[3], fixed[4]
        scale = np.maximum(np.abs(vc["torque_inplane_window"]),
                           np.abs(vc["torque_outofplane_window"]))
        ok = np.abs(vc["current_density"]) > 0
        dev_j = np.max(np.abs(vf["current_density"] - vc["current_density"])[ok]
                       / np.abs(vc["current_density"])[ok])
        dev_t = max(np.max(np.abs(vf[k] - vc[k])[ok] / scale[ok])
                    for k in ("torque_inplane_window", "torque_outofplane_window"))
        lat_t = max(np.max(lf[k][ok] / scale[ok])
                    for k in ("torque_inplane_window", "torque_outofplane_window"))
        for label, row, extra in (("continuum", cont, ("", "", "")),
                                  ("fixed 0.025 nm", fixed,
                                   (f"{dev_j:.1e}", f"{dev_t:.1e}", f"{lat_t:.1e}"))):
            wall, n_eval, a_min, *_, peak = row
            print(f"{name:<16}{label:<18}{a_min:>12.4g}{n_eval:>9}{wall:>9.2f}"
                  f"{extra[0]:>9}{extra[1]:>9}{extra[2]:>9}{peak:>13.0f}")
    sys.stdout.flush()


STARTUP_STEPS = (
    ("interpreter", "pass"),
    ("import mtj_kwant", "import mtj_kwant"),
    ("+ first kernel calls (cache)",
     "import numpy as np, mtj_kwant as mk\n"
     "from mtj_kwant.solvers import make_solver\n"
     "s = make_solver(mk.make_system(mk.load_junction('fe_mgo_fe').at_spacing(0.05)), "
     "theta=1.0, bias=0.1)\n"
     "e, k = np.array([1.0]), np.zeros(1)\n"
     "s.log_det(e, k); s.bond_window(0, e, k, [3]); s.bond_sea(e + 1j, k, [3])\n"
     "s.coupling(e + 1j, k, s.coupling_bond())"),
)


def _startup(repeat=5):
    """Start-up beyond the interpreter: imports and the compiled kernels' first calls (the
    minimum of ``repeat`` fresh interpreters each), and one bias point from the shell."""
    python = str(ROOT / ".venv" / "bin" / "python")
    times = {}
    for label, code in STARTUP_STEPS:
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run([python, "-c", code], check=True, capture_output=True)
            runs.append(time.perf_counter() - start)
        times[label] = min(runs)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(ROOT / ".venv" / "bin" / "mtj-kwant"), "sweep", "fe_mgo_fe", "--bias", "0.1",
               "--quiet", "--fresh", "--output", str(Path(tmp) / "one.json")]
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            runs.append(time.perf_counter() - start)
        times["mtj-kwant sweep fe_mgo_fe --bias 0.1"] = min(runs)
    bare = times["interpreter"]
    print(f"Start-up (fresh interpreters, minimum of {repeat}; beyond: minus the bare interpreter)")
    print(f"{'step':<40}{'wall s':>8}{'beyond s':>10}")
    for label, wall in times.items():
        print(f"{label:<40}{wall:>8.3f}{wall - bare:>10.3f}")
    print()
    sys.stdout.flush()


def _fresh(ctx, func, arg):
    """func(arg) in a fresh (non-daemonic) process, so that it may start its own pool."""
    with ProcessPoolExecutor(1, mp_context=ctx) as pool:
        return pool.submit(func, arg).result()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-kwant", action="store_true", help="skip the Kwant window point")
    parser.add_argument("--continuum-only", action="store_true",
                        help="only the continuum vs fixed-lattice table")
    args = parser.parse_args(argv)
    ctx = mp.get_context("spawn")
    if args.continuum_only:
        _continuum_table(ctx)
        return
    _startup()
    print(f"41-point sweeps, -0.5 ... 0.5 V, parts both, rtol 1e-3, {os.cpu_count()} CPUs")
    print(f"{'free layer':<12}{'run':<30}{'sites':>6}{'evals':>9}{'wall s':>9}{'peak RSS MB':>13}")
    with tempfile.TemporaryDirectory() as tmp:
        for free_nm in (1.0, 2.0):
            wall, peak = _cli(free_nm, tmp)
            print(f"{free_nm:<12}{'mtj-kwant sweep (cold start)':<30}{'':>6}{'':>9}{wall:>9.2f}"
                  f"{peak:>13.0f}")
            for executor in ("serial", None):
                wall, sites, n_eval, ok, peak = _fresh(ctx, _in_process, (free_nm, executor))
                label = "in-process, " + ("serial" if executor else "process pool")
                print(f"{free_nm:<12}{label:<30}{sites:>6}{n_eval:>9}{wall:>9.2f}{peak:>13.0f}"
                      + ("" if ok else "  (not converged)"))
    if args.skip_kwant:
        return
    print()
    print("One window point (fifn_2nm on the 0.025 nm lattice, 0.2 V, rtol 1e-3): Kwant scattering "
          "states vs batched")
    print(f"{'solver':<10}{'evals':>9}{'wall s':>10}{'J (A/m²)':>16}{'peak RSS MB':>13}")
    walls = {}
    for solver in ("kwant", "batched"):
        wall, n_eval, current, peak = _fresh(ctx, _kwant_point, solver)
        walls[solver] = wall
        print(f"{solver:<10}{n_eval:>9}{wall:>10.3f}{current:>16.6e}{peak:>13.0f}")
    print(f"ratio kwant/batched: {walls['kwant'] / walls['batched']:.0f}")
    sys.stdout.flush()
    _continuum_table(ctx)


if __name__ == "__main__":
    main()
