"""Switching phase diagrams, switching probability at 300 K and back-hopping: symmetric versus
asymmetric barrier, and what the linear field-like term b1 does.

Question: which state does a voltage pulse write into a free layer driven by the computed
torques of the bundled Fe/MgO-like junctions, where does the written state "back-hop" (the
polarity that writes AP switches AP back to P at high bias), and what does the linear
out-of-plane term b1 V of an asymmetric barrier change (model paper section 3.3; Oh et al.,
Nature Phys. 5, 898 (2009))?

Method: bias sweeps (parts "total": the torque that acts, θ = 90°, T = 0) of
``fe_mgo_fe`` (rectangular barrier) and ``fe_mgo_fe_asym`` (trapezoid, 0.5 eV slope);
quadratic fits a0..a2, b0..b2 over |V| <= 0.3 V with uncertainties as in the
bias_dependence study; the macrospin torque model is the sweep itself
(:class:`~mtj_kwant.dynamics.TabulatedTorque`: cubic splines in V, T ∝ sin θ).  A third
model, "asymmetric, b1 = 0", is the asymmetric junction's torque with the fitted b1 V removed
from T⊥ and everything else unchanged: the difference to "asymmetric" is the role of b1.

Free layer: a CoFeB-like perpendicular macrospin (M_s = 1.0e6 A/m, d = 1.5 nm, circular
pillar of 60 nm diameter, α = 0.01, thin-film demagnetising field, K_u chosen so that the
thermal stability factor is Δ = K_eff V/k_BT = 45 at 300 K), p ∥ easy axis ∥ z, field H
along z.  The computed torques per area of these free-electron junctions are two to three
orders of magnitude below those of CoFeB/MgO junctions (RA ≈ 290 Ω·µm² instead of 1–10, and
a damping-like efficiency T∥/J of a few per cent): they switch nothing within ±0.5 V.  All
torques (and J) are therefore multiplied by one factor ``TORQUE_SCALE`` = 400 — as if the
barrier transmitted 400 times more with the same spin structure, so that every ratio
(a2/a1, b1/a1, ...) is the computed one — and the notes say so first.

Deterministic phase diagram (T = 0): on a (V, H) grid, a pulse of ``PULSE_NS`` from P and from
AP, each started at the thermal rms angle 1/√(2Δ) from the axis (rk45); the final state is
the side of the equator (the barrier at zero drive) after the pulse and a relaxation at
V = 0 under the same field (up to ``RELAX_NS``, until m·p is within 1e-3 of ±1), so that a
state left unstable at that field is classified where it goes.  Regions: no
switch, P→AP, AP→P, toggle (both switch).  Back-hopping region (hatched): AP→P switching at
the polarity where the linear damping-like term a1 V favours AP, at fields where AP is
stable without the pulse.  The switching fields H(V) of the three torque models are refined
by bisection in H (lines), and the critical voltages at H = 0 by bisection in V (pulse) and
from the linearised LLGS (:func:`~mtj_kwant.dynamics.critical_drive`, infinite pulse).

Thermal switching (300 K): ensembles of stochastic macrospins (Heun, Stratonovich) started
from the Boltzmann distribution of the P or AP well at V = 0 (harmonic, with the field of
b0), constant pulses of amplitude V; the switching probability at pulse width τ is the
fraction of samples on the other side of the equator at τ (with the drive off each relaxes
into the well of its side; samples near the equator at τ are the approximation).

Quick mode: 11 biases, coarse (V, H) grid, 24 samples per ensemble, Heun step 10 ps, pulses
up to 50 ns; full: 41 biases, 250 samples, 5 ps, up to 100 ns (a halved-step check is
recorded).  The sweeps are continuum-limit points (no ``lattice_spacing``).

Outputs: ``torques.png`` (computed a = T∥/sin θ, b = T⊥/sin θ with fits and the critical
voltages), ``phase_diagram.png`` (regions for both junctions, switching-field lines with and
without b1, and the b1 shift of the switching field versus V), ``switching_probability.png``
(probability versus amplitude for several widths and versus width), CSV tables of every curve
(``torques_*``, ``coefficients``, ``phase_*``, ``switching_fields``, ``critical_voltages``,
``probability_*``, with the 95 % Wilson score interval of every probability in ``_lower`` /
``_upper`` columns: unlike the binomial standard error it does not vanish at 0 or 1),
``provenance.json``.
"""

import math
import warnings

import numpy as np

import mtj_kwant as mk
from mtj_kwant.analytic.fits import fit_sweep_torques
from mtj_kwant.units import K_B_SI as K_B
from mtj_kwant.units import MU0
from mtj_kwant.dynamics import (DynamicsWarning, Macrospin, TabulatedTorque, critical_drive,
                                ensemble, integrate, stiffness_fields, tilted)

from . import _lattice

TITLE = "Switching phase diagrams, switching probability at 300 K, back-hopping; the role of b1"
#: One factor for all torques and J of the free-electron junctions (module docstring).
TORQUE_SCALE = 400.0
FIT_RANGE = 0.3          # V, as in bias_dependence
MS = 1.0e6               # A/m
THICKNESS = 1.5          # nm
DIAMETER = 60.0          # nm
ALPHA = 0.01
DELTA = 45.0             # thermal stability factor at TEMPERATURE
WILSON_Z = 1.959963984540054  # Wilson score intervals of the probabilities: 95 %
TEMPERATURE = 300.0      # K
PULSE_NS = 50.0          # ns, pulse width of the deterministic phase diagram
RELAX_NS = 400.0         # ns, longest relaxation at V = 0 after each deterministic pulse
V_MAX = 0.4              # V, the range of the dynamics (the sweep covers ±0.5 V)
JUNCTIONS = {"symmetric": "fe_mgo_fe", "asymmetric": "fe_mgo_fe_asym"}
COLORS = {"symmetric": "C0", "asymmetric": "C3", "asymmetric, b1 = 0": "0.25"}
UNITS = {"bias_V": "V", "current_density": "A/m^2 (computed, unscaled)",
         "torque": "(hbar/2e) A/m^2 (computed, unscaled)", "H": "A/m", "field": "A/m",
         "probability": "fraction of the ensemble", "width": "ns"}
REGIONS = ("no switch", "P→AP", "AP→P", "toggle (both switch)")
REGION_COLORS = ("0.93", "#6baed6", "#fc9272", "#bcbddc")


# ---- setup -----------------------------------------------------------------------------------

def _free_layer():
    """The perpendicular CoFeB-like macrospin (T = 0; K_u from Δ at 300 K)."""
    area = math.pi / 4 * DIAMETER**2
    volume = area * THICKNESS * 1e-27
    k_eff = DELTA * K_B * TEMPERATURE / volume
    return Macrospin(Ms=MS, thickness=THICKNESS, area=area, alpha=ALPHA,
                     Ku=k_eff + 0.5 * MU0 * MS**2)


def _fits(result):
    """Quadratic fits of the total torques over |V| <= FIT_RANGE (as in bias_dependence)."""
    return fit_sweep_torques(result, FIT_RANGE)


def _torque(result, b1=0.0):
    """The sweep as a TabulatedTorque, all columns × TORQUE_SCALE; ``b1`` V is removed from T⊥
    (θ = 90°: T = coefficient)."""
    v = np.asarray(result.bias_V, float)
    s = math.sin(math.radians(result.theta_deg))
    col = lambda a: TORQUE_SCALE * np.asarray(a, float)[:, None]  # noqa: E731
    tperp = np.asarray(result.torque_outofplane_total, float) - b1 * v * s
    return TabulatedTorque(v, [math.radians(result.theta_deg)],
                           col(result.torque_inplane_total), col(tperp),
                           col(result.current_density))


def _field_per_torque(layer):
    """ħ/(2eμ₀M_s d) in A/m per (ħ/2e)·A/m²: a field-like coefficient b is the field
    −b·this along p (mtj_kwant.dynamics.solve)."""
    return layer.spin_torque_rate / layer.gamma0


# ---- deterministic switching ------------------------------------------------------------------

def _final(layer, torque, bias, start, width, tilt):
    """m·p after a pulse (s) of ``bias`` started at ``tilt`` from start·p and a relaxation.

    After the pulse the drive is off (V = 0) under the same field for up to ``RELAX_NS``,
    ending early once m·p has settled within 1e-3 of ±1: the end-of-pulse state need not be
    stable at that field (V = 0, H = 65 kA/m: m·p = −0.977 at 50 ns, switches at 113 ns).
    """
    p = np.asarray(layer.p)
    tr = integrate(layer, torque, bias, width, m0=tilted(start * p, tilt), rtol=1e-6,
                   atol=1e-9, save_every=width)
    m = tr.m[-1]
    chunk = RELAX_NS * 1e-9 / 4
    for _ in range(4):
        if abs(float(m @ p)) > 1 - 1e-3:
            break
        m = integrate(layer, torque, 0.0, chunk, m0=m, rtol=1e-6, atol=1e-9,
                      save_every=chunk).m[-1]
    return float(m @ p)


def _switched(layer, torque, bias, field, start, width, tilt):
    f = layer.with_(H_applied=(0.0, 0.0, field))
    return _final(f, torque, bias, start, width, tilt) * start < 0


def _region(from_p, from_ap):
    """Region index (REGIONS) from the final m·p of the pulses from P and from AP."""
    p_switched, ap_switched = from_p < 0, from_ap > 0
    if p_switched and ap_switched:
        return 3
    if p_switched:
        return 1
    if ap_switched:
        return 2
    return 0


def _bisect(flag, lo, hi, tol):
    """The crossing of a monotone boolean ``flag`` between lo (False) and hi (True)."""
    while abs(hi - lo) > tol:
        mid = 0.5 * (lo + hi)
        if flag(mid):
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def _switching_fields(layer, torque, biases, hk, width, tilt):
    """Per bias: the field above which AP→P and below which P→AP in a pulse (A/m; NaN
    outside ±3 H_K)."""
    top, bottom = 3 * hk, -3 * hk
    tol = 1e-3 * hk
    up, down = [], []
    for v in biases:
        ap = lambda h: _switched(layer, torque, v, h, -1, width, tilt)  # noqa: E731
        if ap(bottom):
            up.append(-math.inf)
        elif not ap(top):
            up.append(math.inf)
        else:
            up.append(_bisect(ap, bottom, top, tol))
        par = lambda h: not _switched(layer, torque, v, h, 1, width, tilt)  # noqa: E731
        if par(bottom):
            down.append(-math.inf)
        elif not par(top):
            down.append(math.inf)
        else:
            down.append(_bisect(par, bottom, top, tol))
    return np.array(up), np.array(down)


def _critical_voltages(layer, torque, grid, width, tilt):
    """Intervals of V (H = 0) in which a pulse switches P→AP and AP→P, edges by bisection."""
    out = {}
    for start, name in ((1, "P→AP"), (-1, "AP→P")):
        flags = [_switched(layer, torque, v, 0.0, start, width, tilt) for v in grid]
        edges = []
        for i in range(len(grid) - 1):
            if flags[i] != flags[i + 1]:
                a, b = (grid[i], grid[i + 1]) if flags[i + 1] else (grid[i + 1], grid[i])
                edges.append(_bisect(lambda v: _switched(layer, torque, v, 0.0, start, width,
                                                         tilt), a, b, 1e-4))
        intervals, inside, lo = [], flags[0], (-math.inf if flags[0] else None)
        for e in edges:
            if inside:
                intervals.append((lo, e))
            else:
                lo = e
            inside = not inside
        if inside:
            intervals.append((lo, math.inf))
        out[name] = intervals
    return out


def _instability(layer, torque):
    """Critical voltages of the linearised LLGS at H = 0 (infinite pulse), by state and sign;
    NaN where the state stays stable over the table (recorded as such, so critical_drive's
    warning is not repeated)."""
    out = {}
    for state, name in (("parallel", "P→AP"), ("antiparallel", "AP→P")):
        for direction in (1, -1):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DynamicsWarning)
                    out[(name, direction)] = critical_drive(layer, torque, state=state,
                                                            direction=direction)
            except ValueError:  # unstable at zero drive
                out[(name, direction)] = math.nan
    return out


def wilson_interval(p, n, z=WILSON_Z):
    r"""Wilson score interval (lower, upper) of a binomial fraction ``p`` of ``n`` samples.

    .. math::

        \frac{\hat p + z^2/2n \pm z\sqrt{\hat p(1-\hat p)/n + z^2/4n^2}}{1 + z^2/n}

    (Wilson, J. Am. Stat. Assoc. 22, 209 (1927)); z = 1.96 for 95 %.  Unlike the binomial
    standard error √(p(1−p)/n), it does not vanish at p = 0 or 1: 0 of 24 gives [0, 0.138].
    """
    p = np.asarray(p, float)
    z2 = z * z / n
    centre = (p + z2 / 2) / (1 + z2)
    half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n)) / (1 + z2)
    # exact ends at p = 0 and 1 (rounding would leave ±1e-18 around p)
    return (np.clip(np.minimum(centre - half, p), 0.0, 1.0),
            np.clip(np.maximum(centre + half, p), 0.0, 1.0))


# ---- thermal switching ------------------------------------------------------------------------

def _thermal_start(layer, torque, start, n, rng):
    """n directions from the Boltzmann distribution of the ±p well at V = 0 (harmonic, the
    field of b0 included), at TEMPERATURE."""
    p = np.asarray(layer.p)
    b0 = float(torque.coefficients(0.0, float(start))[1])
    h_b = -b0 * _field_per_torque(layer)
    well = layer.with_(H_applied=tuple(np.asarray(layer.H_applied) + h_b * p))
    h1, h2 = stiffness_fields(well, start * p)
    sig = [math.sqrt(K_B * TEMPERATURE / (MU0 * layer.Ms * layer.volume * h)) for h in (h1, h2)]
    e1 = tilted(p, math.pi / 2)
    e2 = np.cross(p, e1)
    m = (start * p[None, :] + rng.normal(0, sig[0], (n, 1)) * e1[None, :]
         + rng.normal(0, sig[1], (n, 1)) * e2[None, :])
    return m / np.linalg.norm(m, axis=1)[:, None]


def _probabilities(layer, torque, biases, start, t_end, n, dt, save, seed):
    """(n_bias, n_times) switching probabilities: fraction on the other side of the equator."""
    hot = layer.with_(temperature=TEMPERATURE)
    p = np.asarray(layer.p)
    rng = np.random.default_rng(seed)
    out = []
    for k, v in enumerate(biases):
        m0 = _thermal_start(layer, torque, start, n, rng)
        ens = ensemble(hot, torque, v, t_end, n=n, dt=dt, m0=m0, seed=seed + k,
                       stop_on_switch=False, save_every=save)
        out.append(np.mean((ens.trajectories @ p) * start < 0, axis=0))
    return np.array(out)


# ---- the study --------------------------------------------------------------------------------

def run(ctx):
    biases = np.linspace(-0.5, 0.5, ctx.pick(11, 41))
    rtol = ctx.pick(1e-3, 1e-4)
    layer = _free_layer()
    hk = 2 * layer.effective_anisotropy / (MU0 * layer.Ms)
    tilt = 1 / math.sqrt(2 * DELTA)
    width = PULSE_NS * 1e-9
    kb = _field_per_torque(layer)
    ctx.setting(bias_V=biases, theta_deg=90.0, temperature_K_transport=0.0, rtol=rtol,
                parts="total", lattice=_lattice.CONTINUUM, fit_range_V=FIT_RANGE,
                torque_scale=TORQUE_SCALE,
                free_layer=dict(Ms_A_per_m=MS, thickness_nm=THICKNESS, diameter_nm=DIAMETER,
                                area_nm2=layer.area, alpha=ALPHA, Ku_J_per_m3=layer.Ku,
                                K_eff_J_per_m3=layer.effective_anisotropy, H_K_eff_A_per_m=hk,
                                Delta=layer.with_(temperature=TEMPERATURE).stability_factor,
                                temperature_K=TEMPERATURE, easy_axis="z", p="z",
                                demag="thin film", gamma=layer.gamma),
                field_per_torque_A_per_m=kb, pulse_ns_phase_diagram=PULSE_NS,
                initial_tilt_rad=tilt)
    results, fits, torques = {}, {}, {}
    coefficient_rows = []
    for label, name in JUNCTIONS.items():
        junction = ctx.junction(name)
        result = mk.sweep(junction, biases, parts="total", rtol=rtol,
                          **ctx.scan_options(f"sweep_{label}"))
        results[label] = result
        fits[label] = _fits(result)
        keys = ("current_density", "torque_inplane_total", "torque_outofplane_total")
        columns = {"bias_V": result.bias_V}
        for key in keys:
            columns[key] = getattr(result, key)
            columns[f"{key}_error"] = result.errors[key]
        columns.update(_lattice.columns(result, keys))
        ctx.table(f"torques_{label}", columns, UNITS)
        _lattice.record(ctx, f"sweep_{label}", result, keys)
        for key, fit in fits[label].items():
            for cname, (value, err) in fit.named().items():
                coefficient_rows.append((label, cname, value, err, fit.status))
        torques[label] = _torque(result)
    ctx.table("coefficients", {"junction": [r[0] for r in coefficient_rows],
                               "coefficient": [r[1] for r in coefficient_rows],
                               "value": [r[2] for r in coefficient_rows],
                               "stderr": [r[3] for r in coefficient_rows],
                               "status": [r[4] for r in coefficient_rows]},
              {"value": "(hbar/2e) A/m^2 / V^k, computed (unscaled)", "stderr": "as value"})
    fb = {label: fits[label]["torque_outofplane_total"] for label in JUNCTIONS}
    fa = {label: fits[label]["torque_inplane_total"] for label in JUNCTIONS}
    b1_asym = fb["asymmetric"]["b1"][0]
    torques["asymmetric, b1 = 0"] = _torque(results["asymmetric"], b1=b1_asym)
    variants = list(torques)

    # -- the scale, stated first --------------------------------------------------------------
    unscaled = _instability(layer, _torque_unscaled(results["symmetric"]))
    _note(ctx, 
        f"TORQUES SCALED: every computed torque (and J) is multiplied by S = {TORQUE_SCALE:g} "
        "before the dynamics. Unscaled, the free-electron Fe/MgO-like junctions (RA = "
        f"{_ra(results['symmetric']):.0f} Ohm um^2 at 0.1 V) switch nothing in |V| <= 0.5 V: "
        "the linearised LLGS of this free layer has no critical voltage there ("
        + ", ".join(f"{k[0]} {'+' if k[1] > 0 else '-'}: {_fmt_v(v)}"
                    for k, v in unscaled.items())
        + "). S keeps every ratio of the computed torques (a2/a1, b1/a1, ...); it emulates a "
        "barrier S times more transparent (RA "
        f"{_ra(results['symmetric']) / TORQUE_SCALE:.2g} Ohm um^2) with the same spin "
        "structure. The switching voltages below belong to that scaled junction.")
    _note(ctx, 
        f"free layer: perpendicular CoFeB-like macrospin, Ms = {MS:.3g} A/m, d = {THICKNESS:g} "
        f"nm, circular pillar {DIAMETER:g} nm in diameter (area {layer.area:.0f} nm^2), "
        f"alpha = {ALPHA:g}, K_u = {layer.Ku:.4g} J/m^3 (K_eff = "
        f"{layer.effective_anisotropy:.3g} J/m^3, H_K,eff = {hk / 1e3:.1f} kA/m), Delta = "
        f"{DELTA:g} at {TEMPERATURE:g} K (the same in quick and full mode); field-like "
        f"coefficient -> field: {kb:.4g} A/m per (hbar/2e) A/m^2, i.e. "
        f"{TORQUE_SCALE * kb * 1e8 / 1e3:.3g} kA/m per 1e8 (hbar/2e) A/m^2 of computed torque "
        "after scaling")
    for label in JUNCTIONS:
        for key, fit in ((("T_par", fa[label])), ("T_perp", fb[label])):
            if fit.meaningful:
                _note(ctx, f"{label}: quadratic fit of {key} (total) over |V| <= {FIT_RANGE:g} V: "
                         + ", ".join(f"{n} = {v:.4g} +- {e:.2g}" for n, (v, e) in
                                     fit.named().items())
                         + " ((hbar/2e) A/m^2/V^k, computed, unscaled)")
            else:
                _note(ctx, f"{label}: fit of {key}: {fit.status}")

    # -- deterministic phase diagram ----------------------------------------------------------
    v_grid = np.linspace(-V_MAX, V_MAX, ctx.pick(17, 65))
    h_grid = np.linspace(-2.0, 2.0, ctx.pick(13, 41)) * hk
    maps = {}
    for label in JUNCTIONS:
        from_p = np.empty((h_grid.size, v_grid.size))
        from_ap = np.empty_like(from_p)
        for i, h in enumerate(h_grid):
            f = layer.with_(H_applied=(0.0, 0.0, h))
            for j, v in enumerate(v_grid):
                from_p[i, j] = _final(f, torques[label], v, 1, width, tilt)
                from_ap[i, j] = _final(f, torques[label], v, -1, width, tilt)
        region = np.vectorize(_region)(from_p, from_ap)
        maps[label] = region
        V, H = np.meshgrid(v_grid, h_grid)
        ctx.table(f"phase_{label}", {
            "bias_V": V.ravel(), "H_A_per_m": H.ravel(), "final_mp_from_P": from_p.ravel(),
            "final_mp_from_AP": from_ap.ravel(),
            "region": [REGIONS[k] for k in region.ravel()]},
            {"H_A_per_m": "A/m", "final_mp_from_P": "m.p at the end of the pulse",
             "final_mp_from_AP": "m.p at the end of the pulse"})
    v_lines = np.linspace(-V_MAX, V_MAX, ctx.pick(9, 33))
    lines = {label: _switching_fields(layer, torques[label], v_lines, hk, width, tilt)
             for label in variants}
    rows = {"torque_model": [], "bias_V": [], "H_AP_to_P_A_per_m": [], "H_P_to_AP_A_per_m": []}
    for label, (up, down) in lines.items():
        rows["torque_model"] += [label] * v_lines.size
        rows["bias_V"] += list(v_lines)
        rows["H_AP_to_P_A_per_m"] += list(up)
        rows["H_P_to_AP_A_per_m"] += list(down)
    ctx.table("switching_fields", rows, {
        "H_AP_to_P_A_per_m": "A/m: AP switches to P in the pulse above this field "
                             "(inf/-inf: outside +-3 H_K)",
        "H_P_to_AP_A_per_m": "A/m: P switches to AP in the pulse below this field"})

    # -- critical voltages at H = 0 -----------------------------------------------------------
    fine = np.linspace(-V_MAX, V_MAX, ctx.pick(33, 161))
    crit, inst = {}, {}
    crit_rows = {"torque_model": [], "switching": [], "V_from": [], "V_to": []}
    for label in variants:
        crit[label] = _critical_voltages(layer, torques[label], fine, width, tilt)
        inst[label] = _instability(layer, torques[label])
        for name, intervals in crit[label].items():
            for lo, hi in intervals:
                crit_rows["torque_model"].append(label)
                crit_rows["switching"].append(f"{name} ({PULSE_NS:g} ns pulse, H = 0)")
                crit_rows["V_from"].append(lo)
                crit_rows["V_to"].append(hi)
        for (name, direction), value in inst[label].items():
            crit_rows["torque_model"].append(label)
            crit_rows["switching"].append(f"{name} instability, {'+' if direction > 0 else '-'}"
                                          " polarity (linearised LLGS, H = 0)")
            crit_rows["V_from"].append(value)
            crit_rows["V_to"].append(math.nan)
    ctx.table("critical_voltages", crit_rows, {"V_from": "V", "V_to": "V (inf: beyond the "
                                               f"range +-{V_MAX:g} V)"})
    polarity = {label: -math.copysign(1.0, fa[label]["a1"][0]) for label in JUNCTIONS}
    for label in variants:
        _note(ctx, f"{label} (S = {TORQUE_SCALE:g}, H = 0, {PULSE_NS:g} ns pulse from "
                 f"{tilt:.3f} rad): " + _intervals_text(crit[label]) + "; linearised LLGS "
                 "(infinite pulse): " + ", ".join(
                     f"{n} at {'+' if d > 0 else '-'}: {_fmt_v(v)}"
                     for (n, d), v in inst[label].items()))
    _b1_notes(ctx, fb, fa, crit, inst, lines, v_lines, kb, hk, polarity)
    _torque_figure(ctx, results, fa, fb, crit)
    _phase_figure(ctx, maps, lines, v_grid, h_grid, v_lines, hk, polarity, kb, b1_asym)

    # -- thermal switching probabilities ------------------------------------------------------
    amps = np.linspace(-V_MAX, V_MAX, ctx.pick(9, 33))
    n = ctx.pick(24, 250)
    dt = ctx.pick(0.5e-9 / 60, 5e-12)    # omega_max dt <= 0.19, 0.12 (heun_max_dt: 0.2); divides save
    t_end = ctx.pick(50e-9, 100e-9)
    save = 0.5e-9
    widths_ns = ctx.pick((10.0, 50.0), (5.0, 10.0, 20.0, 50.0, 100.0))
    times = np.arange(int(round(t_end / save)) + 1) * save
    ctx.setting(thermal=dict(n_samples=n, dt_s=dt, t_max_s=t_end, widths_ns=widths_ns,
                             amplitudes_V=amps, field_A_per_m=0.0, method="heun"))
    prob = {}
    for label in JUNCTIONS:
        for start, name in ((1, "P→AP"), (-1, "AP→P")):
            prob[(label, name)] = _probabilities(layer, torques[label], amps, start, t_end, n,
                                                 dt, save, seed=17 if start > 0 else 29)
        cols = {"bias_V": amps}
        for (lab, name), P in prob.items():
            if lab != label:
                continue
            key = "P_to_AP" if name == "P→AP" else "AP_to_P"
            for w in widths_ns:
                k = int(round(w * 1e-9 / save))
                lower, upper = wilson_interval(P[:, k], n)
                cols[f"{key}_{w:g}ns"] = P[:, k]
                cols[f"{key}_{w:g}ns_lower"] = lower
                cols[f"{key}_{w:g}ns_upper"] = upper
        ctx.table(f"probability_{label}", cols, {"bias_V": "V", "*": "fraction of "
                                                 f"{n} samples; _lower/_upper: 95 % Wilson "
                                                 "score interval"})
    k_long = int(round(widths_ns[-1] * 1e-9 / save))
    sel = {label: _selected(prob, amps, label, polarity[label], k_long) for label in JUNCTIONS}
    time_rows = {"junction": [], "switching": [], "bias_V": [], "width_ns": [],
                 "probability": [], "probability_lower": [], "probability_upper": []}
    for label in JUNCTIONS:
        for name, v in sel[label]:
            k = int(np.argmin(np.abs(amps - v)))
            lower, upper = wilson_interval(prob[(label, name)][k], n)
            time_rows["junction"] += [label] * times.size
            time_rows["switching"] += [name] * times.size
            time_rows["bias_V"] += [amps[k]] * times.size
            time_rows["width_ns"] += list(times * 1e9)
            time_rows["probability"] += list(prob[(label, name)][k])
            time_rows["probability_lower"] += list(lower)
            time_rows["probability_upper"] += list(upper)
    ctx.table("probability_vs_width", time_rows, {"width_ns": "ns", "probability":
                                                  f"fraction of {n} samples",
                                                  "probability_lower": "95 % Wilson score "
                                                  "interval, lower end",
                                                  "probability_upper": "95 % Wilson score "
                                                  "interval, upper end"})
    if not ctx.quick:
        _dt_check(ctx, layer, torques, amps, prob, t_end, n, dt, save, widths_ns)
    _probability_notes(ctx, prob, amps, widths_ns, save, n, polarity)
    _probability_figure(ctx, prob, amps, times, widths_ns, sel, save, n, polarity, crit)


# ---- helpers of run ---------------------------------------------------------------------------

def _note(ctx, text):
    """Record a note in the provenance and print it (the study's findings, as they come)."""
    ctx.note(text)
    print(f"switching: {text}", flush=True)


def _torque_unscaled(result):
    v = np.asarray(result.bias_V, float)
    col = lambda a: np.asarray(a, float)[:, None]  # noqa: E731
    return TabulatedTorque(v, [math.radians(result.theta_deg)],
                           col(result.torque_inplane_total), col(result.torque_outofplane_total),
                           col(result.current_density))


def _ra(result):
    """Resistance-area product (Ω·µm²) at the smallest positive bias >= 0.1 V."""
    v = np.asarray(result.bias_V, float)
    j = np.asarray(result.current_density, float)
    k = int(np.argmin(np.where(v >= 0.1 - 1e-9, v, np.inf)))
    return v[k] / j[k] * 1e12


def _fmt_v(v):
    if not np.isfinite(v):
        return "none" if np.isnan(v) else ("beyond the range" if v > 0 else "below the range")
    return f"{v:+.4f} V"


def _intervals_text(crit):
    parts = []
    for name, intervals in crit.items():
        if not intervals:
            parts.append(f"no {name} in |V| <= {V_MAX:g} V")
            continue
        parts.append(f"{name} for " + " and ".join(
            f"V in [{_fmt_edge(lo)}, {_fmt_edge(hi)}]" for lo, hi in intervals))
    return "; ".join(parts)


def _fmt_edge(v):
    if np.isinf(v):
        return f"< -{V_MAX:g}" if v < 0 else f"> +{V_MAX:g}"
    return f"{v:+.4f}"


def _edge(crit, name, side):
    """The first edge of a switching interval on the given polarity (nearest to 0)."""
    best = math.nan
    for lo, hi in crit[name]:
        for e in (lo, hi):
            if np.isfinite(e) and e * side > 0 and (np.isnan(best) or abs(e) < abs(best)):
                best = e
    return best


def _b1_notes(ctx, fb, fa, crit, inst, lines, v_lines, kb, hk, polarity):
    """The role of b1, with numbers."""
    (b1, e1), (b1s, e1s) = fb["asymmetric"]["b1"], fb["symmetric"]["b1"]
    shift = TORQUE_SCALE * kb * b1            # A/m per V
    _note(ctx, f"b1 (computed, fit over |V| <= {FIT_RANGE:g} V): symmetric {b1s:.3g} +- "
             f"{e1s:.2g}, asymmetric {b1:.4g} +- {e1:.2g} (hbar/2e) A/m^2/V "
             f"(a1: {fa['symmetric']['a1'][0]:.3g} and {fa['asymmetric']['a1'][0]:.3g}). "
             "In the Gilbert form a field-like coefficient b is exactly the field "
             "-hbar b/(2e mu0 Ms d) along p, so b1 V shifts every switching field by "
             f"S*hbar*b1/(2e mu0 Ms d) * V = {shift / 1e3:.3g} kA/m per V "
             f"({abs(shift) * 0.3 / hk * 100:.2g} % of H_K,eff at |V| = 0.3 V), odd in V, "
             "while b0 + b2 V^2 shifts both polarities alike")
    up, down = lines["asymmetric"]
    up0, down0 = lines["asymmetric, b1 = 0"]
    with np.errstate(invalid="ignore"):
        d_up, d_down = up - up0, down - down0
    d = np.concatenate([d_up, d_down])
    vv = np.concatenate([v_lines, v_lines])
    ok = np.isfinite(d) & (np.abs(vv) > 1e-9)
    if ok.any():
        # measured shift of the switching fields per volt (least squares through 0)
        slope = float(np.sum(d[ok] * vv[ok]) / np.sum(vv[ok] ** 2))
        _note(ctx, f"switching-field shift from b1 (asymmetric minus asymmetric with b1 = 0, "
                 f"both lines, {int(ok.sum())} points): {slope / 1e3:.3g} kA/m per V "
                 f"(expected {shift / 1e3:.3g} from the field identity; bisection tolerance "
                 f"{1e-3 * hk:.0f} A/m)")
    pol = polarity["asymmetric"]
    with_b1, without, sym = "asymmetric", "asymmetric, b1 = 0", "symmetric"
    items = []
    window = {lab: [iv for iv in crit[lab]["P→AP"] if iv[0] * pol > 0 or iv[1] * pol > 0]
              for lab in crit}
    if window[with_b1] and window[without]:
        (lo, hi), (lo0, hi0) = window[with_b1][0], window[without][0]
        items.append(f"P->AP window [{_fmt_edge(lo)}, {_fmt_edge(hi)}] V with b1, "
                     f"[{_fmt_edge(lo0)}, {_fmt_edge(hi0)}] V without (edges moved by "
                     f"{1e3 * (lo - lo0):+.2f} and {1e3 * (hi - hi0):+.2f} mV); symmetric: "
                     + (f"[{_fmt_edge(window[sym][0][0])}, {_fmt_edge(window[sym][0][1])}] V"
                        if window[sym] else "no P->AP at H = 0"))
    else:
        items.append("P->AP at H = 0: " + ", ".join(
            f"{lab}: " + (f"[{_fmt_edge(w[0][0])}, {_fmt_edge(w[0][1])}] V" if w else "none")
            for lab, w in window.items()))
    for what, side in (("back-hopping onset (AP->P at the AP-writing polarity)", pol),
                       ("AP->P threshold at the other polarity", -pol)):
        vs = {lab: _edge(crit[lab], "AP→P", side) for lab in crit}
        if all(np.isfinite(list(vs.values()))):
            d_b1 = vs[with_b1] - vs[without]
            d_all = vs[with_b1] - vs[sym]
            items.append(f"{what}: {vs[with_b1]:+.4f} V with b1, {vs[without]:+.4f} V without "
                         f"(b1 moves it by {1e3 * d_b1:+.2f} mV = "
                         f"{100 * d_b1 / abs(vs[without]):+.2g} %, "
                         f"{'away from' if d_b1 * side > 0 else 'toward'} zero bias); the "
                         f"symmetric junction's is {vs[sym]:+.4f} V, so the asymmetric barrier "
                         f"as a whole moves it by {1e3 * d_all:+.1f} mV")
        else:
            items.append(f"{what}: {_fmt_v(vs[with_b1])} with b1, {_fmt_v(vs[without])} "
                         f"without, symmetric {_fmt_v(vs[sym])}")
    a1s, a1a = fa["symmetric"]["a1"][0], fa["asymmetric"]["a1"][0]
    _note(ctx, f"role of b1 at H = 0 ({PULSE_NS:g} ns pulses, T = 0, edges by bisection to "
             "0.1 mV): " + "; ".join(items) + ". Why so little: the field-like torque acts "
             "as a field along p, the damping-like one as a field divided by alpha "
             f"(= {ALPHA:g}) in the switching condition, so a unit of b weighs alpha times a "
             f"unit of a, and b1 = {b1:.3g} is {abs(b1 / a1a):.2g} of |a1| = {abs(a1a):.3g} "
             "(hbar/2e) A/m^2/V; the back-hopping onset moves between the junctions mainly "
             f"because the trapezoid makes a1 {a1a / a1s:.2g} times larger, so that the V^2 "
             "term a2 > 0 of T_par (which favours P at both polarities) overtakes a1 V at "
             f"V* = -a1/a2 = {_vstar(fa['asymmetric']):.3f} V instead of "
             f"{_vstar(fa['symmetric']):.3f} V")


def _vstar(fit):
    """-a1/a2 (V): where the quadratic in-plane torque changes sign."""
    return -fit["a1"][0] / fit["a2"][0]


def _selected(prob, amps, label, pol, k_long):
    """(switching, V) for the probability-versus-width panel of one junction: AP→P at the
    normal polarity and back-hopping AP→P at the AP-writing one, each at the smallest |V|
    that switches half the samples in the longest pulse, and P→AP where it is most likely."""
    out = []
    for name, side in (("AP→P", -pol), ("P→AP", pol), ("AP→P", pol)):
        P = prob[(label, name)][:, k_long]
        on_side = amps * side > 1e-12
        if name == "P→AP":
            k = int(np.argmax(np.where(on_side, P, -1.0)))
        else:
            half = np.flatnonzero(on_side & (P >= 0.5))
            k = (int(half[np.argmin(np.abs(amps[half]))]) if half.size
                 else int(np.argmax(amps * side)))
        out.append((name, float(amps[k])))
    return out


def _probability_notes(ctx, prob, amps, widths_ns, save, n, polarity):
    for label in JUNCTIONS:
        pol = polarity[label]
        w = widths_ns[-1]
        k = int(round(w * 1e-9 / save))
        p_pap = prob[(label, "P→AP")][:, k]
        p_app = prob[(label, "AP→P")][:, k]
        write = amps[(amps * pol > 0) & (p_pap >= 0.5)]
        back = amps[(amps * pol > 0) & (p_app >= 0.5)]
        other = amps[(amps * pol < 0) & (p_app >= 0.5)]
        txt = (f"{label}, 300 K, {w:g} ns pulses, {n} samples, H = 0: "
               + (f"P->AP with probability >= 0.5 for V in [{write.min():+.3f}, "
                  f"{write.max():+.3f}] V (max {p_pap.max():.2f})" if write.size else
                  f"P->AP never reaches 0.5 (max {p_pap.max():.2f} at "
                  f"{amps[int(np.argmax(p_pap))]:+.3f} V)" if p_pap.max() > 0 else
                  f"no P->AP switching at all in |V| <= {V_MAX:g} V")
               + "; AP->P (normal polarity) from "
               + (f"{other.max():+.3f} V" if other.size else "nowhere in range")
               + "; back-hopping AP->P at the AP-writing polarity from "
               + (f"{back.min():+.3f} V" if back.size else f"nowhere in |V| <= {V_MAX:g} V"))
        _note(ctx, txt)


def _dt_check(ctx, layer, torques, amps, prob, t_end, n, dt, save, widths_ns):
    """Full mode: the probabilities at one amplitude with the Heun step halved."""
    label, name, start = "asymmetric", "P→AP", 1
    # the amplitude whose probability at the middle width is closest to 1/2 (most sensitive)
    mid = int(round(widths_ns[len(widths_ns) // 2] * 1e-9 / save))
    k = int(np.argmin(np.abs(prob[(label, name)][:, mid] - 0.5)))
    v = amps[k]
    half = _probabilities(layer, torques[label], [v], start, t_end, n, dt / 2, save, seed=17)
    diff = float(np.max(np.abs(half[0] - prob[(label, name)][k])))
    ctx.error(f"thermal: largest change of P({name}, t) at V = {v:+.3f} V when the Heun step "
              f"is halved ({dt:g} -> {dt / 2:g} s; binomial noise of {n} samples: "
              f"{0.5 / math.sqrt(n):.3f})", diff)


# ---- figures ----------------------------------------------------------------------------------

def _torque_figure(ctx, results, fa, fb, crit):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for label, result in results.items():
        c = COLORS[label]
        v = np.asarray(result.bias_V)
        for ax, key, fit in ((axes[0], "torque_inplane_total", fa[label]),
                             (axes[1], "torque_outofplane_total", fb[label])):
            ax.errorbar(v, np.asarray(getattr(result, key)) / 1e8,
                        yerr=np.asarray(result.errors[key]) / 1e8, fmt="o", ms=4, color=c,
                        label=f"computed, {label}")
            if fit.meaningful:
                vv = np.linspace(-FIT_RANGE, FIT_RANGE, 61)
                names = ", ".join(f"{n} = {val:.2g}" for n, (val, _) in fit.named().items()
                                  if n[-1] in "12")
                ax.plot(vv, fit(vv) / 1e8, "-", color=c, lw=1, label=f"fit ({names})")
        edges = sorted({e for ivs in crit[label].values() for iv in ivs for e in iv
                        if np.isfinite(e)})
        for k, e in enumerate(edges):
            for ax in axes:
                ax.axvline(e, color=c, ls=":", lw=1,
                           label=(f"switching edges, {label} ({PULSE_NS:g} ns, H = 0, × S)"
                                  if k == 0 and ax is axes[0] else None))
    axes[0].set_ylabel(r"$a = T_\parallel/\sin\theta$ ($10^8\,(\hbar/2e)$ A/m$^2$)")
    axes[1].set_ylabel(r"$b = T_\perp/\sin\theta$ ($10^8\,(\hbar/2e)$ A/m$^2$)")
    for ax in axes:
        ax.set_xlabel("V (V)")
        ax.axhline(0, color="0.8", lw=0.8)
        ax.axvline(0, color="0.8", lw=0.8)
        ax.legend(fontsize=7)
    axes[0].set_title("damping-like (a > 0 favours P)")
    axes[1].set_title("field-like (b < 0: a field along p, favours P)")
    fig.suptitle(f"computed total torques (unscaled; the dynamics use S = {TORQUE_SCALE:g} × "
                 "these)", fontsize=10)
    ctx.figure(fig, "torques")


def _phase_figure(ctx, maps, lines, v_grid, h_grid, v_lines, hk, polarity, kb, b1):
    import matplotlib.pyplot as plt
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    cmap = ListedColormap(REGION_COLORS)
    norm = BoundaryNorm(np.arange(-0.5, len(REGIONS)), cmap.N)
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.6), layout="constrained",
                             gridspec_kw={"width_ratios": [1, 1, 0.8]})
    dv = v_grid[1] - v_grid[0]
    dh = h_grid[1] - h_grid[0]
    izero = int(np.argmin(np.abs(v_grid)))
    for ax, label in zip(axes[:2], maps):
        region = maps[label]
        ax.pcolormesh(v_grid, h_grid / 1e3, region, cmap=cmap, norm=norm, shading="nearest")
        # back-hopping: AP->P at the AP-writing polarity, where AP is stable without the pulse
        pol = polarity[label]
        ap_to_p = (region == 2) | (region == 3)
        stable_ap = ~ap_to_p[:, izero]
        back = ap_to_p & (np.sign(v_grid)[None, :] == pol) & stable_ap[:, None]
        if back.any():
            ax.contourf(v_grid, h_grid / 1e3, back.astype(float), levels=[0.5, 1.5],
                        colors="none", hatches=["///"])
            ax.contour(v_grid, h_grid / 1e3, back.astype(float), levels=[0.5], colors="k",
                       linewidths=0.8)
        for variant, ls in ((label, "-"), ("asymmetric, b1 = 0", "--")):
            if variant == "asymmetric, b1 = 0" and label != "asymmetric":
                continue
            up, down = lines[variant]
            for arr, name, marker in ((up, "AP→P", "^"), (down, "P→AP", "v")):
                y = np.where(np.isfinite(arr), arr, np.nan) / 1e3
                ax.plot(v_lines, y, ls, marker=marker, ms=3, color=COLORS[variant], lw=1.2,
                        label=f"{name} switching field ({'above' if name == 'AP→P' else 'below'}"
                              f" it), {variant}")
        ax.set_xlim(v_grid[0] - dv / 2, v_grid[-1] + dv / 2)
        ax.set_ylim((h_grid[0] - dh / 2) / 1e3, (h_grid[-1] + dh / 2) / 1e3)
        ax.set_xlabel("V (V)")
        ax.set_ylabel("H (kA/m)")
        ax.set_title(f"{label} barrier")
    handles = [Patch(facecolor=c, edgecolor="0.5", label=r) for c, r in
               zip(REGION_COLORS, REGIONS)]
    handles.append(Patch(facecolor="none", edgecolor="k", hatch="///",
                         label="back-hopping (AP→P at the AP-writing polarity)"))
    line_handles = [h for ax in axes[:2] for h in ax.get_legend_handles_labels()[0]]
    fig.legend(handles=handles + line_handles, fontsize=7, ncol=5, loc="outside lower center")
    # the b1 shift of the switching field
    ax = axes[2]
    for (arr, arr0), name, marker in ((_pair(lines, 0), "AP→P", "o"),
                                      (_pair(lines, 1), "P→AP", "s")):
        with np.errstate(invalid="ignore"):
            d = arr - arr0
        ok = np.isfinite(d)
        ax.plot(v_lines[ok], d[ok] / 1e3, marker, ms=5, ls="", label=f"{name} line: with b1 − "
                "without")
    vv = np.linspace(-V_MAX, V_MAX, 3)
    ax.plot(vv, TORQUE_SCALE * kb * b1 * vv / 1e3, "k-", lw=1,
            label=r"$S\hbar b_1 V/(2e\mu_0 M_s d)$ (field identity)")
    ax.axhline(0, color="0.8", lw=0.8)
    ax.set_xlabel("V (V)")
    ax.set_ylabel(r"shift of the switching field $\Delta H$ (kA/m)")
    ax.set_title(f"role of b1 (asymmetric: b1 = {b1:.3g} (ħ/2e) A/m²/V)", fontsize=9)
    ax.legend(fontsize=7)
    fig.suptitle(f"final state after a {PULSE_NS:g} ns pulse from P and from AP and a "
                 f"relaxation at V = 0 in the same field (up to {RELAX_NS:g} ns), T = 0 "
                 f"(torques × {TORQUE_SCALE:g}; perpendicular CoFeB-like layer, Δ = "
                 f"{DELTA:g}, H_K,eff = {hk / 1e3:.0f} kA/m, α = {ALPHA:g})", fontsize=10)
    ctx.figure(fig, "phase_diagram")


def _pair(lines, k):
    return lines["asymmetric"][k], lines["asymmetric, b1 = 0"][k]


def _probability_figure(ctx, prob, amps, times, widths_ns, sel, save, n, polarity, crit):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8.6), layout="constrained")
    cmap = plt.get_cmap("viridis")
    for col, label in enumerate(JUNCTIONS):
        ax = axes[0, col]
        pol = polarity[label]
        for i, w in enumerate(widths_ns):
            k = int(round(w * 1e-9 / save))
            c = cmap(0.85 * i / max(len(widths_ns) - 1, 1))
            for name, ls, mk_ in (("P→AP", "-", "o"), ("AP→P", "--", "s")):
                P = prob[(label, name)][:, k]
                lower, upper = wilson_interval(P, n)
                ax.errorbar(amps, P, yerr=(P - lower, upper - P), fmt=mk_ + ls, ms=3,
                            color=c, lw=1, label=f"{name}, {w:g} ns")
        edge = _edge(crit[label], "AP→P", pol)
        if np.isfinite(edge):
            a, b = sorted((edge, pol * V_MAX))
            ax.axvspan(a, b, color="k", alpha=0.08, hatch="//",
                       label=f"back-hopping (deterministic, {PULSE_NS:g} ns, T = 0)")
        ax.set_xlabel("V (V)")
        ax.set_ylabel("switching probability (fraction)")
        ax.set_ylim(-0.03, 1.03)
        ax.set_title(f"{label} barrier, 300 K, H = 0 ({n} samples)")
        ax = axes[1, col]
        for (name, v), c in zip(sel[label], ("C1", "C2", "C4")):
            k = int(np.argmin(np.abs(amps - v)))
            ax.plot(times * 1e9, prob[(label, name)][k], "-", color=c,
                    label=f"{name} at {amps[k]:+.3f} V")
        ax.set_xlabel("pulse width (ns)")
        ax.set_ylabel("switching probability (fraction)")
        ax.set_ylim(-0.03, 1.03)
        ax.set_xscale("log")
        ax.set_xlim(save * 1e9, times[-1] * 1e9)
        ax.legend(fontsize=7, title=f"{label} barrier", title_fontsize=7)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, ncol=len(widths_ns) + 1, loc="outside lower center")
    fig.suptitle(f"thermal switching (torques × {TORQUE_SCALE:g}, Δ = {DELTA:g}); solid: from P "
                 "(P→AP), dashed: from AP (AP→P)", fontsize=10)
    ctx.figure(fig, "switching_probability")
