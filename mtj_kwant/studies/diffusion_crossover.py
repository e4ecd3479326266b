"""From ballistic interference to spin diffusion: T(d), the linear T⊥ of Eqs. 26–27, profiles.

Question (issue 14, model paper section 4): when the free layer of an F/I/F/N junction carries
elastic momentum relaxation ħ/τ_m and spin flip ħ/τ_sf (DESIGN.md §8, treated in the
self-consistent Born approximation by :mod:`mtj_kwant.scba`), (a) do the ballistic oscillations
of the torque with the free-layer thickness d give way to the smooth curve of the diffusion
model (Eq. 23) and to 1/d; (b) does spin relaxation in the free layer mix T∥ into T⊥, so that
the linear coefficient b1 of T⊥(V) = b0 + b1 V + … follows the mixing prediction −β a1 of
Eqs. 26–27; (c) what do the spin accumulation and the spin current inside the free layer look
like beside the diffusion profiles (model paper Fig. 4)?

Method.  Junction: ``mtj_kwant/systems/fifn_dephasing.toml`` (Fe-like pinned electrode, 1 nm
MgO-like barrier, Fe-like free layer, Cu-like semi-infinite cap), θ = 90° (m = x̂, p = ẑ),
T = 0 K, window (transport) part only: with scattering the Fermi sea is not computed
(``bias_point`` refuses ``parts="both"``), so every torque here is the window torque.  All
points sit on ONE FIXED LATTICE (``lattice_spacing`` 12.5 pm quick, 6.25 pm full): the
continuum extrapolation (:func:`mtj_kwant.continuum.lattice_point`, three nested lattices)
costs ~20 s per SCBA point, too much for these grids, so the numbers carry a discretisation
error that is not in their error bars.  Its size is measured and recorded
(``lattice_error_ballistic``: the ballistic junction at d = 2 nm on the study's lattice
against its continuum limit; T∥ is a small difference of large terms here, 0.05 nm flips its
sign).  Each point is ``mtj_kwant.integrate.bias_point(..., parts="window")``;
with both rates 0 the junction has no scattering table and the ballistic route runs.  Errors:
the integrator's estimates (quadrature + SCBA self-consistency), projected onto
e∥ = m×(p×m)/|…| and e⊥ = m×p/|…| as Σ_i |e_i| err_i; b1 from ±V propagates them.

(a) T(d): d on a grid, momentum rates ħ/τ_m (0 = ballistic; the others with the file's
ħ/τ_sf = 0.01 eV), V = 0.1 V.  Shown: T∥, T⊥ (torque per area on the whole free layer,
(ħ/2e) A/m²), the spin-transfer efficiency T∥/J (J the charge current density), and T∥/d on
log-log axes beside a 1/d line.  Eq. 23 is fed, point by point, with the SAME interfacial spin
current: J0 = J∥ + iJ⊥ = the window spin current entering the free layer across the
barrier-side interface (``PointResult.interfacial``) of that very point (same d, same rates);
the predicted total torque is d·T_Eq23 = M(d) J0 with M from
``mtj_kwant.analytic.diffusion.diffusion_torque``.  Its lengths come from
``mtj_kwant.analytic.relaxation.diffusion_parameters`` (free-electron bands of the free layer at
E_F, the rates of the point): D, λ_sf, λ_J, λ_φ.  The cap is a ballistic semi-infinite
electrode, which the diffusion model does not contain; it enters through η =
D_F λ_N/(D_N L) with the kinetic (Sharvin) boundary condition D_N/λ_N → v_N/4 (a ballistic
half space takes a spin flux v_N s/4 from an accumulation s at its surface), i.e.
η = 4 D_F/(v_N L), v_N the cap's Fermi velocity; the perfect sink η = 0 is shown as a bound.
For the ballistic points D = ∞, so η = ∞ (the cap counts as insulating next to an infinitely
conducting layer) and Eq. 23 gives full absorption, d·T = J0 at every d; its perfect-sink bound
is then (1 − 1/cosh(d/λ_φ)) J0.
Agreement: per rate, the median and largest |T − T_Eq23|/|T| and the largest
|T − T_Eq23|/σ (σ the error bar), for T∥ and T⊥.

(b) b1 of the junction versus the free layer's ħ/τ_sf (ħ/τ_m = the file's 0.05 eV; and the
ballistic junction as the baseline): b1 = [T⊥(+V) − T⊥(−V)]/(2V) (odd part; the cubic term
b3 V² is in it), likewise the linear coefficients a1_J, b1_J of the interfacial J∥, J⊥.  The
junction has identical Fe-like bands on both sides of the barrier (the paper's symmetric
junction, whose interfacial J⊥ is even in V), but the finite free layer and its cap break the
symmetry, so b1 ≠ 0 already without scattering: the study reports b1, its change from the
ballistic value, and the mixing prediction of Eqs. 24–27 for the same interfacial current,
b1_pred = −β a1_J + α b1_J (α, β of ``mixing_coefficients`` at d = 2 nm, dT = M J0), whose
paper form is the first term, −β a1.

(c) Profiles at d = 2 nm, V = 0.1 V (``profile=True``): the transverse window spin density
s∥, s⊥ (⟨σ⟩/nm³) per site and the transverse spin current J∥, J⊥ per bond ((ħ/2e) A/m²)
against ``spin_accumulation_profile`` fed with the point's J0 and the same lengths and η.
The spin current needs no conversion; the accumulation is converted from D_F s
((ħ/2e) A/m² nm) to ⟨σ⟩/nm³ by 1/(e D_F) (one ⟨σ⟩ flux = J/e), assuming the package's spin
density and spin current count the same σ.

What to look for: whether T(d) loses its oscillations as ħ/τ_m grows, whether Eq. 23 with the
same J0 tracks it, whether b1 moves as −β a1 says.  The map of DESIGN.md §8 gives mean free
paths ≈ 10 nm at ħ/τ_m = 0.05 eV and precession angles Δτ_m/ħ ≫ 1 for every rate the Born
approximation allows here (ħ/τ_m ≪ the minority Fermi energy ≈ 0.7 eV), so the layer stays
far from the diffusive regime in which Eqs. 20–27 hold: the record states by how much.

Outputs: ``thickness.png``, ``linear_perpendicular.png``, ``profiles.png``; CSV tables
``thickness``, ``thickness_agreement``, ``linear_perpendicular``, ``profiles_*``;
``summary.json`` (the agreement numbers; also in ``provenance.json`` under ``errors``).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from mtj_kwant.units import E_CHARGE

TITLE = "Dephasing and spin flip in the free layer: ballistic to diffusive torque, linear T⊥"

THETA = math.pi / 2
BIAS = 0.1  # V
BASE = "fifn_dephasing"
SPIN_FLIP = 0.01  # eV, the file's ħ/τ_sf, used in (a) and (c)
MOMENTUM_B = 0.05  # eV, the file's ħ/τ_m, used in (b)
TORQUE_UNIT = "(hbar/2e) A/m^2"
#: Unit conversion of a spin current in (ħ/2e) A/m² to a ⟨σ⟩ flux in 1/(nm² fs): J/e · 1e-33.
SIGMA_FLUX = 1e-33 / E_CHARGE


# -- pure helpers ------------------------------------------------------------------------------
def axes_of(theta=THETA, phi=0.0):
    """(m, p, e∥, e⊥) of the study's geometry (p = ẑ)."""
    from mtj_kwant.physics import magnetization_direction, torque_axes

    m = magnetization_direction(theta, phi)
    p = np.array([0.0, 0.0, 1.0])
    e_par, e_perp = torque_axes(m, p)
    return m, p, e_par, e_perp


def project(vector, error, e):
    """Component of ``vector`` (…, 3) along the unit vector e and its error Σ_i |e_i| err_i."""
    vector, error, e = (np.asarray(v, float) for v in (vector, error, e))
    return vector @ e, np.abs(error) @ np.abs(e)


def odd_coefficient(plus, minus, err_plus, err_minus, bias):
    """Linear coefficient from values at ±V: ((f(V) − f(−V))/(2V), error in quadrature)."""
    return (plus - minus) / (2 * bias), math.hypot(err_plus, err_minus) / (2 * bias)


def cap_eta_sharvin(diffusion_free, inv_length, cap_velocity):
    """η = 4 D_F/(v_N L) of a ballistic cap (kinetic boundary condition J = v_N s/4).

    ``diffusion_free`` in nm²/fs, ``inv_length`` = 1/L in 1/nm (complex), ``cap_velocity`` in
    nm/fs; inf for D_F = inf (ballistic free layer: the cap takes nothing back).
    """
    if not np.isfinite(diffusion_free):
        return complex(np.inf)
    return complex(4.0 * diffusion_free * inv_length / cap_velocity)


def lengths_of(junction, momentum, spin_flip):
    """Diffusion parameters of the free layer (layer[1]) for the rates, and the cap velocity."""
    from mtj_kwant.analytic.relaxation import diffusion_parameters, free_electron_bands

    free = junction.layers[1]
    mass = free.effective_mass if getattr(free, "effective_mass", None) else \
        junction.effective_mass
    par = diffusion_parameters(junction.fermi_energy, free.potential, free.exchange, momentum,
                               spin_flip, mass=mass)
    cap = free_electron_bands(junction.fermi_energy, junction.right.potential,
                              junction.right.exchange, junction.effective_mass)
    return par, 0.5 * (cap.v_up + cap.v_down)


def eq23_factor(d, par, cap_velocity, sink=False):
    """Complex M(d) with d·T = M J0 (Eq. 23), and η (Sharvin cap, or 0 with ``sink``)."""
    from mtj_kwant.analytic.diffusion import diffusion_torque, inverse_lengths

    lj, lp, ls = par.lambda_J, par.lambda_phi, par.lambda_sf
    inv_l = complex(inverse_lengths(lj, lp, ls)[2])
    eta = 0.0 if sink else cap_eta_sharvin(float(par.D), inv_l, cap_velocity)
    m = diffusion_torque(1.0, d, lj, lp, ls, eta) * np.asarray(d, float)
    return m, eta


def agreement(values, errors, predicted):
    """Median and max relative deviation |v − p|/|v|, and max |v − p|/σ."""
    v, e, p = (np.asarray(x, float) for x in (values, errors, predicted))
    dev = np.abs(v - p)
    rel = dev / np.maximum(np.abs(v), 1e-300)
    sig = dev / np.maximum(e, 1e-300)
    return {"median_relative_deviation": float(np.median(rel)),
            "max_relative_deviation": float(np.max(rel)),
            "max_deviation_in_error_bars": float(np.max(sig)), "points": int(v.size)}


# -- one point (module level: picklable for worker processes) -------------------------------
def junction_for(spacing, thickness, momentum, spin_flip):
    """The study's junction: fifn_dephasing at a fixed lattice with the given free layer.

    Both rates 0: the junction has no active scattering (``has_scattering`` False), so
    ``bias_point`` takes the ballistic route (identical to fifn_2nm at the same lattice).
    """
    import mtj_kwant as mk

    base = mk.load_junction(BASE)
    j = mk.junction_with(base, {"layer[1].thickness": float(thickness),
                                "layer[1].scattering.momentum": float(momentum),
                                "layer[1].scattering.spin_flip": float(spin_flip)})
    assert j.has_scattering == (momentum > 0 or spin_flip > 0)
    return j.at_spacing(float(spacing))


def compute(spacing, thickness, momentum, spin_flip, bias, rtol, profile=False):
    """bias_point of one point (window part, θ = 90°)."""
    import warnings

    import mtj_kwant as mk
    from mtj_kwant.integrate import bias_point

    j = junction_for(spacing, thickness, momentum, spin_flip)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*lattice_spacing.*")
        jsys = mk.make_system(j)
        return jsys, bias_point(jsys, theta=THETA, bias=bias, rtol=rtol, parts="window",
                                profile=profile)


def summarise(res):
    """Flat dict of scalars of a PointResult: components along e∥, e⊥ with errors."""
    _, _, e_par, e_perp = axes_of()
    out = {"current_density": float(res.current_density),
           "current_density_error": float(res.errors["current_density"])}
    for key in ("torque", "interfacial", "spin_current_difference", "spin_flip_loss"):
        vec = getattr(res, key)
        if vec is None:  # ballistic: no spin flip, the difference is the torque
            vec = res.torque if key == "spin_current_difference" else np.zeros(3)
            err = res.errors["torque"] if key == "spin_current_difference" else np.zeros(3)
        else:
            err = res.errors[key]
        for name, e in (("par", e_par), ("perp", e_perp)):
            v, s = project(vec, err, e)
            out[f"{key}_{name}"] = float(v)
            out[f"{key}_{name}_error"] = float(s)
    # sum rule of mtj_kwant.scba's continuity equation: J_in − J_out = τ + L
    if res.spin_flip_loss is not None:
        scd, loss = np.asarray(res.spin_current_difference), np.asarray(res.spin_flip_loss)
        tq = np.asarray(res.torque)
        scale = float(np.max(np.abs(tq)))
        out["sum_rule_residual"] = float(np.max(np.abs(scd - loss - tq)) / scale)
    else:
        out["sum_rule_residual"] = 0.0
    out["converged"] = bool(res.converged)
    out["n_eval"] = int(res.n_eval)
    out["scba_iterations"] = int(res.scba["iterations"]) if res.scba else 0
    return out


def point(p, *, spacing, rtol):
    """run_points function: p has thickness_nm, momentum_eV, spin_flip_eV, bias_V."""
    _, res = compute(spacing, p["thickness_nm"], p["momentum_eV"], p["spin_flip_eV"],
                     p["bias_V"], rtol)
    return summarise(res)


# -- the study -----------------------------------------------------------------------------------
def _scan(ctx, label, points, spacing, rtol):
    from mtj_kwant.runner import fingerprint_of, run_points

    executor = ctx.executor
    if executor == "auto":
        executor = None if len(points) > 3 else "serial"
    rows = run_points(functools.partial(point, spacing=spacing, rtol=rtol), points,
                      executor=executor, store=ctx.store(label),
                      fingerprint=fingerprint_of({"spacing": spacing, "rtol": rtol,
                                                  "theta": THETA, "base": BASE}),
                      progress=ctx.progress, desc=label)
    return [dict(p, **r) for p, r in zip(points, rows)]


def _col(rows, key):
    return np.array([r[key] for r in rows], float)


def run(ctx):
    import mtj_kwant as mk

    spacing = ctx.pick(0.0125, 0.00625)
    rtol = ctx.pick(1e-3, 1e-3)
    base = ctx.junction(BASE)
    lattice_error = _lattice_error(spacing, rtol)
    ctx.setting(lattice=f"ONE FIXED LATTICE, lattice_spacing = {spacing:g} nm (no continuum "
                        "extrapolation: ~20 s per SCBA point); the discretisation error is "
                        "not in the error bars; its size, measured on the ballistic junction "
                        "(d = 2 nm) against the continuum limit, is lattice_error_ballistic",
                lattice_error_ballistic=lattice_error,
                lattice_spacing_nm=spacing, rtol=rtol, theta_deg=90.0, temperature_K=0.0,
                parts="window (with scattering the Fermi sea is not computed)",
                junction=BASE, free_layer=dict(potential_eV=base.layers[1].potential,
                                               exchange_eV=base.layers[1].exchange),
                cap_boundary="eta = 4 D_F/(v_N L): kinetic (Sharvin) boundary condition of the "
                             "ballistic semi-infinite cap; eta = 0 (perfect sink) as a bound",
                J0_fed_to_Eq23="PointResult.interfacial of the same point: window spin current "
                               "entering the free layer across the barrier-side interface, "
                               "J0 = J_par + i J_perp")
    summary = {"lattice_spacing_nm": spacing, "lattice_error_ballistic": lattice_error}
    summary["thickness"] = _thickness(ctx, mk, spacing, rtol)
    summary["linear_perpendicular"] = _linear(ctx, spacing, rtol)
    summary["profiles"] = _profiles(ctx, spacing, rtol)
    from mtj_kwant.results import write_json

    write_json(summary, ctx.out / "summary.json")
    ctx.error("agreement_eq23_thickness", summary["thickness"])
    ctx.error("agreement_eq26_27_b1", summary["linear_perpendicular"])
    ctx.error("agreement_profiles", summary["profiles"])
    ctx.note("summary.json holds the agreement numbers (also here under errors: "
             "agreement_eq23_thickness, agreement_eq26_27_b1, agreement_profiles)")
    return summary


def _lattice_error(spacing, rtol):
    """Relative deviation of J, T∥, T⊥ of the ballistic junction (d = 2 nm, V = 0.1 V) on the
    study's lattice from their continuum limit (:func:`mtj_kwant.continuum.lattice_point`): the
    size of the discretisation error that the error bars leave out."""
    import mtj_kwant as mk
    from mtj_kwant.continuum import lattice_point

    j = mk.junction_with(mk.load_junction(BASE), {"layer[1].scattering.momentum": 0.0,
                                                   "layer[1].scattering.spin_flip": 0.0})
    _, lat = compute(spacing, 2.0, 0.0, 0.0, BIAS, rtol)
    cont = lattice_point(j, theta=THETA, bias=BIAS, rtol=rtol)
    _, _, e_par, e_perp = axes_of()
    out = {"current_density": abs(lat.current_density / cont.current_density - 1)}
    for name, e in (("T_par", e_par), ("T_perp", e_perp)):
        out[name] = abs((lat.torque @ e) / (cont.torque @ e) - 1)
    return out


# -- (a) ------------------------------------------------------------------------------------------
def _thickness(ctx, mk, spacing, rtol):
    import matplotlib.pyplot as plt

    grid = ctx.pick([1.0, 2.0, 3.0], list(np.round(np.arange(0.5, 6.0 + 1e-9, 0.25), 6)))
    momenta = ctx.pick([0.0, 0.2], [0.0, 0.02, 0.05, 0.1, 0.2, 0.4])
    ctx.setting(thickness_grid_nm=grid, momentum_rates_eV=momenta,
                thickness_spin_flip_eV=f"{SPIN_FLIP} (0 with momentum 0: ballistic)",
                thickness_bias_V=BIAS)
    points = [dict(thickness_nm=d, momentum_eV=m, spin_flip_eV=SPIN_FLIP if m > 0 else 0.0,
                   bias_V=BIAS) for m in momenta for d in grid]
    rows = _scan(ctx, "thickness", points, spacing, rtol)
    base = junction_for(spacing, 2.0, 0.05, SPIN_FLIP)
    table = {k: [] for k in ("momentum_eV", "spin_flip_eV", "thickness_nm")}
    agree = {}
    curves = {}
    for m in momenta:
        sel = [r for r in rows if r["momentum_eV"] == m]
        d = _col(sel, "thickness_nm")
        par, v_n = lengths_of(base, m, SPIN_FLIP if m > 0 else 0.0)
        fac, eta = eq23_factor(d, par, v_n)
        fac0, _ = eq23_factor(d, par, v_n, sink=True)
        j0 = _col(sel, "interfacial_par") + 1j * _col(sel, "interfacial_perp")
        pred, pred0 = fac * j0, fac0 * j0
        curves[m] = (d, sel, pred, pred0)
        for k in ("momentum_eV", "spin_flip_eV", "thickness_nm"):
            table[k] += [r[k] for r in sel]
        for k, v in (("eq23_torque_par", pred.real), ("eq23_torque_perp", pred.imag),
                     ("eq23_sink_torque_par", pred0.real), ("eq23_sink_torque_perp", pred0.imag),
                     ("eta_real", np.full(d.size, eta.real)),
                     ("eta_imag", np.full(d.size, eta.imag)),
                     ("D_nm2_per_fs", np.full(d.size, float(par.D))),
                     ("lambda_sf_nm", np.full(d.size, float(par.lambda_sf))),
                     ("lambda_J_nm", np.full(d.size, float(par.lambda_J))),
                     ("lambda_phi_nm", np.full(d.size, float(par.lambda_phi))),
                     ("mean_free_path_nm", np.full(d.size, float(par.mean_free_path))),
                     ("precession_per_scattering", np.full(
                         d.size, float(par.precession_per_scattering)))):
            table.setdefault(k, []).extend(list(v))
        for key in ("torque_par", "torque_perp", "torque_par_error", "torque_perp_error",
                    "interfacial_par", "interfacial_perp", "interfacial_par_error",
                    "interfacial_perp_error", "current_density", "current_density_error",
                    "spin_flip_loss_par", "spin_flip_loss_perp",
                    "sum_rule_residual", "converged"):
            table.setdefault(key, []).extend([r[key] for r in sel])
        a_par = agreement(_col(sel, "torque_par"), _col(sel, "torque_par_error"), pred.real)
        a_perp = agreement(_col(sel, "torque_perp"), _col(sel, "torque_perp_error"), pred.imag)
        agree[f"momentum_{m:g}_eV"] = {
            "T_par": a_par, "T_perp": a_perp,
            "precession_per_scattering": float(par.precession_per_scattering),
            "mean_free_path_nm": float(par.mean_free_path),
            "eta": {"real": eta.real, "imag": eta.imag}}
        ctx.note(f"(a) hbar/tau_m = {m:g} eV: T_par vs Eq. 23 (same J0): median "
                 f"{100 * a_par['median_relative_deviation']:.0f} %, max "
                 f"{100 * a_par['max_relative_deviation']:.0f} % off "
                 f"({a_par['max_deviation_in_error_bars']:.3g} error bars); T_perp median "
                 f"{100 * a_perp['median_relative_deviation']:.0f} %, max "
                 f"{100 * a_perp['max_relative_deviation']:.0f} %; mean free path "
                 f"{float(par.mean_free_path):.3g} nm, precession per scattering "
                 f"Delta tau_m/hbar = {float(par.precession_per_scattering):.3g} "
                 "(Eqs. 20-23 need <~ 1)")
    worst_sum = max(r["sum_rule_residual"] for r in rows)
    ctx.error("thickness: max |J_in - J_out - L - T| / max|T| (scba sum rule)", worst_sum)
    ctx.error("thickness: max torque error", float(max(
        max(r["torque_par_error"], r["torque_perp_error"]) for r in rows)))
    if not all(r["converged"] for r in rows):
        ctx.note(f"(a) {sum(not r['converged'] for r in rows)} points not converged "
                 "(converged = False in thickness.csv)")
    units = {"momentum_eV": "eV", "spin_flip_eV": "eV", "thickness_nm": "nm",
             "current_density": "A/m^2", "current_density_error": "A/m^2",
             "eta_real": "1", "eta_imag": "1", "D_nm2_per_fs": "nm^2/fs",
             "lambda_sf_nm": "nm", "lambda_J_nm": "nm", "lambda_phi_nm": "nm",
             "mean_free_path_nm": "nm", "precession_per_scattering": "1 (Delta tau_m/hbar)",
             "sum_rule_residual": "1 (|J_in − J_out − loss − T| relative to max |T|)",
             "converged": "bool"}
    units.update({k: TORQUE_UNIT for k in table if k not in units})
    ctx.table("thickness", table, units)
    flat = {"momentum_eV": [], "component": [], "median_relative_deviation": [],
            "max_relative_deviation": [], "max_deviation_in_error_bars": [],
            "mean_free_path_nm": [], "precession_per_scattering": []}
    for key, a in agree.items():
        for comp in ("T_par", "T_perp"):
            flat["momentum_eV"].append(float(key.split("_")[1]))
            flat["component"].append(comp)
            for k in ("median_relative_deviation", "max_relative_deviation",
                      "max_deviation_in_error_bars"):
                flat[k].append(a[comp][k])
            flat["mean_free_path_nm"].append(a["mean_free_path_nm"])
            flat["precession_per_scattering"].append(a["precession_per_scattering"])
    ctx.table("thickness_agreement", flat, {
        "momentum_eV": "eV", "component": "T_par or T_perp",
        "median_relative_deviation": "1 (|T - T_Eq23|/|T|)",
        "max_relative_deviation": "1 (|T - T_Eq23|/|T|)",
        "max_deviation_in_error_bars": "1 (|T - T_Eq23|/sigma_T)",
        "mean_free_path_nm": "nm", "precession_per_scattering": "1 (Delta tau_m/hbar)"})

    # figure: 2 x 2
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.6), layout="constrained")
    s = 1e6
    for k, m in enumerate(momenta):
        d, sel, pred, pred0 = curves[m]
        c = f"C{k}"
        lab = "ballistic" if m == 0 else f"ħ/τ_m = {m:g} eV"
        tp, tpe = _col(sel, "torque_par"), _col(sel, "torque_par_error")
        tq, tqe = _col(sel, "torque_perp"), _col(sel, "torque_perp_error")
        cur = _col(sel, "current_density")
        cur_e = _col(sel, "current_density_error")
        axes[0, 0].errorbar(d, tp / s, tpe / s, fmt="o-", color=c, ms=4, lw=1.2,
                            label=f"{lab}: SCBA" if m else f"{lab}: Kwant")
        axes[0, 0].plot(d, pred.real / s, "--", color=c, lw=1.2, label=f"{lab}: Eq. 23, same J0")
        axes[0, 0].plot(d, pred0.real / s, ":", color=c, lw=1.0,
                        label=f"{lab}: Eq. 23, perfect sink")
        axes[0, 1].errorbar(d, tq / s, tqe / s, fmt="o-", color=c, ms=4, lw=1.2)
        axes[0, 1].plot(d, pred.imag / s, "--", color=c, lw=1.2)
        axes[0, 1].plot(d, pred0.imag / s, ":", color=c, lw=1.0)
        eff = tp / cur
        eff_e = np.abs(eff) * np.hypot(tpe / np.abs(tp), cur_e / np.abs(cur))
        axes[1, 0].errorbar(d, eff, eff_e, fmt="o-", color=c, ms=4, lw=1.2)
        axes[1, 0].plot(d, pred.real / cur, "--", color=c, lw=1.2)
        axes[1, 1].errorbar(d, np.abs(tp) / d / s, tpe / d / s, fmt="o-", color=c, ms=4, lw=1.2)
        axes[1, 1].plot(d, np.abs(pred.real) / d / s, "--", color=c, lw=1.2)
    d_b, sel_b, _, _ = curves[momenta[0]]
    j_ref = abs(sel_b[-1]["interfacial_par"])
    dd = np.geomspace(min(grid), max(grid), 50)
    axes[1, 1].plot(dd, j_ref / dd / s, color="0.5", lw=3, alpha=0.5, zorder=0,
                    label=f"1/d: |J∥| of the ballistic d = {d_b[-1]:g} nm point / d")
    axes[1, 1].set_xscale("log")
    axes[1, 1].set_yscale("log")
    for ax in axes.ravel():
        ax.set_xlabel("free-layer thickness d (nm)")
    axes[0, 0].set_ylabel("T∥ (10⁶ (ħ/2e) A/m²)")
    axes[0, 1].set_ylabel("T⊥ (10⁶ (ħ/2e) A/m²)")
    axes[1, 0].set_ylabel("efficiency T∥/J (ħ/2e)")
    axes[1, 1].set_ylabel("|T∥|/d (10⁶ (ħ/2e) A/m² per nm)")
    axes[0, 0].set_title("in-plane torque (window, V = 0.1 V)", fontsize=9)
    axes[0, 1].set_title("out-of-plane torque (window)", fontsize=9)
    axes[1, 0].set_title("spin-transfer efficiency T∥/J", fontsize=9)
    axes[1, 1].set_title("layer-averaged |T∥|/d beside 1/d", fontsize=9)
    h, lab = axes[0, 0].get_legend_handles_labels()
    h2, lab2 = axes[1, 1].get_legend_handles_labels()
    fig.legend(h + h2, lab + lab2, loc="outside lower center", ncol=3, fontsize=8,
               frameon=False)
    fig.suptitle(f"F/I/F/N ({BASE}), θ = 90°, lattice {spacing:g} nm (fixed; its error is in "
                 "summary.json); points: "
                 "Kwant/SCBA with error bars; dashed: Eq. 23 fed with the point's own "
                 "interfacial J0", fontsize=9)
    ctx.figure(fig, "thickness")
    return agree


# -- (b) ------------------------------------------------------------------------------------------
def _linear(ctx, spacing, rtol):
    import matplotlib.pyplot as plt

    from mtj_kwant.analytic.diffusion import mixing_coefficients

    flips = ctx.pick([0.0, 0.1], [0.0, 0.01, 0.02, 0.05, 0.1, 0.2])
    d = 2.0
    cases = [(0.0, 0.0)] + [(MOMENTUM_B, f) for f in flips]
    ctx.setting(linear_bias_V=[-BIAS, BIAS], linear_thickness_nm=d,
                linear_momentum_eV=MOMENTUM_B, linear_spin_flip_rates_eV=flips,
                linear_b1="[T_perp(+V) - T_perp(-V)]/(2V); likewise a1_J, b1_J of the "
                          "interfacial J_par, J_perp",
                linear_prediction="b1_pred = -beta a1_J + alpha b1_J (Eqs. 24-27, dT = M J0, "
                                  "mixing_coefficients at d = 2 nm, Sharvin eta); paper form "
                                  "-beta a1_J")
    points = [dict(thickness_nm=d, momentum_eV=m, spin_flip_eV=f, bias_V=v)
              for m, f in cases for v in (BIAS, -BIAS)]
    rows = _scan(ctx, "linear_perpendicular", points, spacing, rtol)
    base = junction_for(spacing, d, MOMENTUM_B, SPIN_FLIP)
    out = {k: [] for k in ("momentum_eV", "spin_flip_eV", "b1", "b1_error", "a1_torque",
                           "a1_torque_error", "a1_J", "a1_J_error", "b1_J", "b1_J_error",
                           "alpha", "beta", "b1_pred", "b1_pred_error", "minus_beta_a1_J",
                           "minus_beta_a1_torque",
                           "b1_change", "b1_change_error", "deviation_in_error_bars",
                           "lambda_sf_nm")}
    for m, f in cases:
        plus = next(r for r in rows if r["momentum_eV"] == m and r["spin_flip_eV"] == f
                    and r["bias_V"] > 0)
        minus = next(r for r in rows if r["momentum_eV"] == m and r["spin_flip_eV"] == f
                     and r["bias_V"] < 0)

        def odd(key):
            return odd_coefficient(plus[key], minus[key], plus[f"{key}_error"],
                                   minus[f"{key}_error"], BIAS)

        b1, b1e = odd("torque_perp")
        a1t, a1te = odd("torque_par")
        a1j, a1je = odd("interfacial_par")
        b1j, b1je = odd("interfacial_perp")
        par, v_n = lengths_of(base, m, f)
        _, eta = eq23_factor(np.array([d]), par, v_n)
        alpha, beta = mixing_coefficients(d, par.lambda_J, par.lambda_phi, par.lambda_sf, eta)
        alpha, beta = float(alpha), float(beta)
        pred = -beta * a1j + alpha * b1j
        pred_e = math.hypot(beta * a1je, alpha * b1je)
        row = dict(momentum_eV=m, spin_flip_eV=f, b1=b1, b1_error=b1e, a1_torque=a1t,
                   a1_torque_error=a1te, a1_J=a1j, a1_J_error=a1je, b1_J=b1j, b1_J_error=b1je,
                   alpha=alpha, beta=beta, b1_pred=pred, b1_pred_error=pred_e,
                   minus_beta_a1_J=-beta * a1j, minus_beta_a1_torque=-beta * a1t,
                   lambda_sf_nm=float(par.lambda_sf))
        out_b0 = out["b1"][0] if out["b1"] else b1
        out_b0e = out["b1_error"][0] if out["b1_error"] else 0.0
        row["b1_change"] = b1 - out_b0
        row["b1_change_error"] = math.hypot(b1e, out_b0e)
        row["deviation_in_error_bars"] = abs(b1 - pred) / max(math.hypot(b1e, pred_e), 1e-300)
        for k, v in row.items():
            out[k].append(v)
    units = {"momentum_eV": "eV", "spin_flip_eV": "eV", "alpha": "1", "beta": "1",
             "deviation_in_error_bars": "1 (|b1 - b1_pred|/sigma)", "lambda_sf_nm": "nm"}
    units.update({k: "(hbar/2e) A/m^2 per V" for k in out if k not in units})
    ctx.table("linear_perpendicular", out, units)
    b1 = np.array(out["b1"])
    res = {"b1_ballistic": [out["b1"][0], out["b1_error"][0]], "cases": []}
    for i in range(1, len(b1)):
        rec = {k: out[k][i] for k in ("spin_flip_eV", "b1", "b1_error", "b1_pred",
                                      "b1_pred_error", "minus_beta_a1_J", "minus_beta_a1_torque",
                                      "alpha", "beta",
                                      "b1_change", "b1_change_error",
                                      "deviation_in_error_bars")}
        rec["relative_deviation"] = abs(out["b1"][i] - out["b1_pred"][i]) / abs(out["b1"][i])
        res["cases"].append(rec)
        ctx.note(f"(b) hbar/tau_sf = {out['spin_flip_eV'][i]:g} eV (hbar/tau_m = "
                 f"{MOMENTUM_B:g} eV): b1 = {out['b1'][i]:.4g} +- {out['b1_error'][i]:.2g}, "
                 f"change from ballistic {out['b1_change'][i]:.4g} +- "
                 f"{out['b1_change_error'][i]:.2g}; Eqs. 26-27 with the same J0: "
                 f"-beta a1_J + alpha b1_J = {out['b1_pred'][i]:.4g} +- "
                 f"{out['b1_pred_error'][i]:.2g} (-beta a1_J = {out['minus_beta_a1_J'][i]:.4g}, "
                 f"alpha = {out['alpha'][i]:.3g}, beta = {out['beta'][i]:.3g}); "
                 f"{out['deviation_in_error_bars'][i]:.3g} error bars apart "
                 "((hbar/2e) A/m^2 per V)")
    ctx.note(f"(b) ballistic b1 = {out['b1'][0]:.4g} +- {out['b1_error'][0]:.2g} (hbar/2e) "
             "A/m^2 per V: the finite free layer and cap break the symmetry of the junction")

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
    f = np.array(out["spin_flip_eV"][1:])
    s = 1e6
    axes[0].errorbar(f, b1[1:] / s, np.array(out["b1_error"][1:]) / s, fmt="o-", color="C0",
                     label="b1 (SCBA, ±V)")
    axes[0].errorbar(f, np.array(out["b1_pred"][1:]) / s, np.array(out["b1_pred_error"][1:]) / s,
                     fmt="s--", color="C3", label="−β a1_J + α b1_J (Eqs. 24–27, same J0)")
    axes[0].plot(f, np.array(out["minus_beta_a1_J"][1:]) / s, "^:", color="C2",
                 label="−β a1_J (paper's linear term)")
    axes[0].axhline(out["b1"][0] / s, color="0.4", lw=1, ls="-.",
                    label="b1 of the ballistic junction")
    axes[0].set_xlabel("free-layer spin-flip rate ħ/τ_sf (eV)")
    axes[0].set_ylabel("b1 (10⁶ (ħ/2e) A/m² per V)")
    axes[0].set_title(f"linear coefficient of T⊥, ħ/τ_m = {MOMENTUM_B:g} eV, d = {d:g} nm",
                      fontsize=9)
    axes[1].plot(f, out["alpha"][1:], "o-", color="C0", label="α")
    axes[1].plot(f, out["beta"][1:], "s-", color="C3", label="β")
    axes[1].set_xlabel("free-layer spin-flip rate ħ/τ_sf (eV)")
    axes[1].set_ylabel("mixing coefficients α, β (dimensionless)")
    axes[1].set_title("dT∥ = αJ∥ + βJ⊥, dT⊥ = −βJ∥ + αJ⊥ (diffusion map of the rates)",
                      fontsize=9)
    for ax in axes:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.0, -0.18), frameon=False)
    ctx.figure(fig, "linear_perpendicular")
    return res


# -- (c) ------------------------------------------------------------------------------------------
def _profiles(ctx, spacing, rtol):
    import matplotlib.pyplot as plt

    from mtj_kwant.analytic.diffusion import spin_accumulation_profile

    d = 2.0
    momenta = ctx.pick([0.0, 0.2], [0.0, 0.05, 0.2, 0.4])
    ctx.setting(profile_thickness_nm=d, profile_momentum_rates_eV=momenta,
                profile_spin_flip_eV=SPIN_FLIP, profile_bias_V=BIAS,
                profile_accumulation_conversion="s = (D_F s)/(e D_F) * 1e-33: (hbar/2e) A/m^2 "
                                                "nm -> <sigma>/nm^3, D_F in nm^2/fs")
    _, _, e_par, e_perp = axes_of()
    fig, axes = plt.subplots(2, len(momenta), figsize=(5.4 * len(momenta), 7.6),
                             layout="constrained", squeeze=False)
    res = {}
    for k, m in enumerate(momenta):
        f = SPIN_FLIP if m > 0 else 0.0
        jsys, r = compute(spacing, d, m, f, BIAS, rtol, profile=True)
        chain = jsys.chain
        free = np.asarray(chain.layer_index) == 1
        x0 = float(np.min(np.asarray(chain.x)[free])) - 0.5 * chain.step  # barrier | free
        x = np.asarray(chain.x) - x0
        xb = np.asarray(chain.bond_x) - x0
        prof = r.profile
        sd, sde = prof["spin_density"], prof["error_arrays"]["spin_density"]
        sc, sce = prof["spin_current"], prof["error_arrays"]["spin_current"]
        s_par, s_par_e = project(sd, sde, e_par)
        s_perp, s_perp_e = project(sd, sde, e_perp)
        j_par, j_par_e = project(sc, sce, e_par)
        j_perp, j_perp_e = project(sc, sce, e_perp)
        keep = (x > -0.5) & (x < d + 1.0)
        keep_b = (xb > -0.5) & (xb < d + 1.0)
        j0 = complex(*project(r.interfacial, r.errors["interfacial"], e_par)[:1],
                     project(r.interfacial, r.errors["interfacial"], e_perp)[0])
        columns = {"x_nm": x[keep], "spin_density_par": s_par[keep],
                   "spin_density_par_error": s_par_e[keep], "spin_density_perp": s_perp[keep],
                   "spin_density_perp_error": s_perp_e[keep]}
        bonds = {"x_nm": xb[keep_b], "spin_current_par": j_par[keep_b],
                 "spin_current_par_error": j_par_e[keep_b],
                 "spin_current_perp": j_perp[keep_b],
                 "spin_current_perp_error": j_perp_e[keep_b]}
        lab = "ballistic" if m == 0 else f"ħ/τ_m = {m:g} eV, ħ/τ_sf = {f:g} eV"
        rec = {"J0": [j0.real, j0.imag]}
        ax_s, ax_j = axes[0, k], axes[1, k]
        inl = keep & (x >= 0)  # the barrier holds the pinned side's own (longitudinal) spin
        ax_s.errorbar(x[inl], s_par[inl], s_par_e[inl], color="C3", lw=1.2,
                      label="s∥ (Kwant)")
        ax_s.errorbar(x[inl], s_perp[inl], s_perp_e[inl], color="k", lw=1.2,
                      label="s⊥ (Kwant)")
        ax_j.errorbar(xb[keep_b], j_par[keep_b] / 1e6, j_par_e[keep_b] / 1e6, color="C3", lw=1.2,
                      label="J∥ (Kwant)")
        ax_j.errorbar(xb[keep_b], j_perp[keep_b] / 1e6, j_perp_e[keep_b] / 1e6, color="k",
                      lw=1.2, label="J⊥ (Kwant)")
        if m > 0:
            base = junction_for(spacing, d, m, f)
            par, v_n = lengths_of(base, m, f)
            _, eta = eq23_factor(np.array([d]), par, v_n)
            # λ_N large and D_N/λ_N = v_N/4 give the Sharvin η (the free layer sees only η)
            lam_n = 1e3
            ratio = v_n * lam_n / (4.0 * float(par.D))
            xs = np.clip(x[keep], 0, None)
            xbs = np.clip(xb[keep_b], 0, None)
            dp = spin_accumulation_profile(xs, j0, d, par.lambda_J, par.lambda_phi,
                                           par.lambda_sf, lam_n, ratio)
            dpb = spin_accumulation_profile(xbs, j0, d, par.lambda_J, par.lambda_phi,
                                            par.lambda_sf, lam_n, ratio)
            acc = dp.accumulation * SIGMA_FLUX / float(par.D)  # <σ>/nm³
            columns["diffusion_spin_density_par"] = acc.real
            columns["diffusion_spin_density_perp"] = acc.imag
            bonds["diffusion_spin_current_par"] = dpb.spin_current.real
            bonds["diffusion_spin_current_perp"] = dpb.spin_current.imag
            inside = (xs > 0) & (xs < d)
            inside_b = (xbs > 0) & (xbs < d)
            ax_s.plot(xs[xs > 0], acc.real[xs > 0], "--", color="C3", label="s∥ (diffusion)")
            ax_s.plot(xs[xs > 0], acc.imag[xs > 0], "--", color="k", label="s⊥ (diffusion)")
            ax_j.plot(xbs[xbs > 0], dpb.spin_current.real[xbs > 0] / 1e6, "--", color="C3",
                      label="J∥ (diffusion)")
            ax_j.plot(xbs[xbs > 0], dpb.spin_current.imag[xbs > 0] / 1e6, "--", color="k",
                      label="J⊥ (diffusion)")
            kw = np.abs(s_par[keep] + 1j * s_perp[keep])[inside]
            dw = np.abs(acc)[inside]
            jk = (j_par[keep_b] + 1j * j_perp[keep_b])[inside_b]
            jd = dpb.spin_current[inside_b]
            rec.update({
                "accumulation_ratio_kwant_over_diffusion_rms": float(
                    np.sqrt(np.mean(kw ** 2)) / np.sqrt(np.mean(dw ** 2))),
                "spin_current_relative_rms_deviation": float(
                    np.sqrt(np.mean(np.abs(jk - jd) ** 2)) / np.sqrt(np.mean(np.abs(jk) ** 2))),
                "spin_current_at_cap_kwant": [float(np.interp(d, xb, j_par)),
                                              float(np.interp(d, xb, j_perp))],
                "spin_current_at_cap_diffusion": [
                    float(np.interp(d, xbs, dpb.spin_current.real)),
                    float(np.interp(d, xbs, dpb.spin_current.imag))]})
            ctx.note(f"(c) {lab}: transverse spin current in the free layer, rms |J_Kwant - "
                     f"J_diffusion| / rms |J_Kwant| = "
                     f"{100 * rec['spin_current_relative_rms_deviation']:.0f} %; spin "
                     f"accumulation rms ratio Kwant/diffusion = "
                     f"{rec['accumulation_ratio_kwant_over_diffusion_rms']:.3g}")
        res[f"momentum_{m:g}_eV"] = rec
        tag = f"{m:g}".replace(".", "p")
        ctx.table(f"profiles_sites_momentum_{tag}", columns, {
            "x_nm": "nm (from the barrier | free-layer interface)",
            **{c: "<sigma>/nm^3" for c in columns if c != "x_nm"}})
        ctx.table(f"profiles_bonds_momentum_{tag}", bonds, {
            "x_nm": "nm (from the barrier | free-layer interface)",
            **{c: TORQUE_UNIT for c in bonds if c != "x_nm"}})
        for ax in (ax_s, ax_j):
            ax.axvspan(d, d + 0.2, color="0.93", zorder=0)
            ax.axvspan(-0.3, 0.0, color="0.85", zorder=0)
            ax.set_xlim(-0.3, d + 0.2)
            ax.set_xlabel("depth x (nm; free layer from 0 to 2, cap beyond)")
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.2), ncol=2,
                      frameon=False)
        ax_s.set_title(lab, fontsize=9)
        ax_s.set_ylabel("spin density s∥, s⊥ (⟨σ⟩/nm³)")
        ax_j.set_ylabel("J∥, J⊥ (10⁶ (ħ/2e) A/m²)")
    fig.suptitle(f"Spin accumulation and spin current, d = {d:g} nm, V = {BIAS:g} V, θ = 90°, "
                 f"lattice {spacing:g} nm; dashed: diffusion profiles fed with the same J0",
                 fontsize=9)
    ctx.figure(fig, "profiles")
    return res
