"""Bias dependence of the torque: symmetric versus asymmetric barriers.

Question: how do T∥(V) and T⊥(V) depend on bias, and what does barrier
asymmetry add?  For a symmetric junction T∥ ≈ a1 V + a2 V² and
T⊥ ≈ b0 + b2 V² (T⊥ even in V); an asymmetric barrier adds a linear term
b1 V to T⊥ (model paper, section 3.3, Eqs. 12–13).

Method: bias sweeps (window, Fermi sea and total, θ = 90°, T = 0) of the
bundled Fe/MgO-like junctions ``fe_mgo_fe`` (rectangular barrier) and
``fe_mgo_fe_asym`` (trapezoid, 0.5 eV slope at the same mean height); fits of
a0, a1, a2 and b0, b1, b2 to the total torques over |V| ≤ 0.3 V (uncertainties: the
integration error estimates propagated, scaled up by the residuals where these exceed them,
so that they include the truncation of the polynomial; a fit that means nothing, e.g. as many
points as coefficients, is flagged "not meaningful" in the notes and the table); the
Bardeen-transfer-matrix prediction for the same junctions, scaled by one
factor that matches Kwant's J/V at small bias (the BTM's own normalisation
assumes normal incidence, see mtj_kwant.comparison); and a scan of the
trapezoid's slope at fixed mean height, showing b1 proportional to the slope.

Lattice: the junction files have no ``lattice_spacing``: every point is the continuum limit
(nested lattices, Richardson extrapolation in a²), its error covers quadrature and
discretisation, and the discretisation part is in the ``*_lattice_error`` columns and the
provenance.

Outputs: ``bias_dependence.png`` (J, T∥, T⊥ versus V, both junctions, Kwant and
BTM), ``asymmetry.png`` (b1 versus slope), CSV tables of every curve and of
the fitted coefficients, ``provenance.json``.
"""

import math

import numpy as np

import mtj_kwant as mk
from mtj_kwant.analytic.btm import btm_from_junction, btm_torques
from mtj_kwant.analytic.fits import (fit_bias_polynomial, fit_outofplane, fit_sweep_torques,
                                     fit_with_errors)
from mtj_kwant.comparison import compare

from . import _lattice

TITLE = "Bias dependence of T∥ and T⊥; the linear T⊥ term of an asymmetric barrier"
UNITS = {"bias_V": "V", "current_density": "A/m^2", "torque": "(hbar/2e) A/m^2",
         "slope_eV": "eV", "b1": "(hbar/2e) A/m^2/V"}
FIT_RANGE = 0.3  # V
LATTICE_KEYS = ("current_density", "torque_inplane_window", "torque_outofplane_window",
                "torque_inplane_total", "torque_outofplane_total")


def _fits(result):
    return fit_sweep_torques(result, FIT_RANGE)


def _fit_note(label, key, fit):
    """The fitted coefficients with their uncertainties, or why the fit means nothing."""
    what = "T_par" if "inplane" in key else "T_perp"
    head = (f"{label}: quadratic fit of {what} (total) over |V| <= {FIT_RANGE:g} V "
            f"({fit.n_points} points)")
    if not fit.meaningful:
        return f"{head}: {fit.status}; coefficients not reported"
    return head + ": " + ", ".join(f"{name} = {value:.4g} +- {err:.2g}"
                                   for name, (value, err) in fit.named().items()) \
        + " ((hbar/2e) A/m^2/V^k)"


def _slope_note(rows):
    """b1 versus slope: straight-line fit weighted by the b1 uncertainties, or why not."""
    slope, b1, err = (np.asarray(rows[k], float) for k in ("slope_eV", "b1", "b1_stderr"))
    bad = [s for s, st in zip(rows["slope_eV"], rows["fit_status"]) if st != "ok"]
    if bad:
        return ("b1 versus barrier slope: not fitted, the b1 fits are not meaningful at slope(s) "
                + ", ".join(f"{s:+.3g}" for s in bad) + " eV")
    if not np.all(np.isfinite(err) & (err > 0)):
        return "b1 versus barrier slope: not fitted, some b1 have no finite uncertainty"
    line = fit_with_errors(fit_bias_polynomial, slope, b1, 1, err)
    if not line.meaningful:
        return f"b1 versus barrier slope: straight-line fit {line.status}"
    (c0, e0), (c1, e1) = line["c0"], line["c1"]
    zero = "zero within its uncertainty" if abs(c0) <= 2 * e0 else "NOT zero within 2 sigma"
    return (f"b1 grows linearly with the barrier slope: db1/dslope = {c1:.4g} +- {e1:.2g} "
            f"(hbar/2e) A/m^2/V per eV; b1 at zero slope = {c0:.3g} +- {e0:.2g} ({zero}; "
            f"expected 0: a symmetric barrier has no linear T_perp term); {line.n_points} slopes")


def _btm(result, junction):
    """BTM window and total torques on the sweep's biases, scaled to Kwant's J/V."""
    comp = compare(result, junction, models=("btm",))
    scale = comp.scales["btm"]["factor"]
    bias = np.asarray(result.bias_V)
    total = btm_torques(btm_from_junction(junction), bias, theta=math.pi / 2,
                        phase_factors="thick_barrier")
    return {"current_density": comp.models["btm"]["current_density"],
            "torque_inplane_window": comp.models["btm"]["torque_inplane"],
            "torque_outofplane_window": comp.models["btm"]["torque_outofplane"],
            "torque_inplane_total": scale * total.torque_parallel,
            "torque_outofplane_total": scale * total.torque_perpendicular}, scale


def run(ctx):
    import matplotlib.pyplot as plt

    n_bias = ctx.pick(9, 41)  # quick: 5 points in the fit range, 2 more than coefficients
    biases = np.linspace(-0.5, 0.5, n_bias)
    rtol = ctx.pick(1e-3, 1e-5)
    ctx.setting(bias_V=biases, theta_deg=90.0, temperature_K=0.0, rtol=rtol,
                lattice=_lattice.CONTINUUM, fit_range_V=FIT_RANGE,
                btm_phase_factors="thick_barrier",
                btm_normalisation="one factor matching Kwant's J/V at the smallest |V|")
    cases = {"symmetric": ctx.junction("fe_mgo_fe"), "asymmetric": ctx.junction("fe_mgo_fe_asym")}
    fig, axes = plt.subplots(1, 3, figsize=(16.5, 4.2), constrained_layout=True)
    coefficient_rows, results = [], []
    for (label, junction), color in zip(cases.items(), ("C0", "C3")):
        result = mk.sweep(junction, biases, parts="both", rtol=rtol,
                          **ctx.scan_options(f"sweep_{label}"))
        results.append(result)
        btm, scale = _btm(result, junction)
        fits = _fits(result)
        columns = {"bias_V": result.bias_V, "current_density": result.current_density}
        for key in ("torque_inplane_window", "torque_outofplane_window",
                    "torque_inplane_total", "torque_outofplane_total"):
            columns[key] = getattr(result, key)
            columns[f"{key}_error"] = result.errors[key]
        columns.update(_lattice.columns(result, LATTICE_KEYS))
        columns.update({f"btm_{k}": v for k, v in btm.items()})
        ctx.table(f"sweep_{label}", columns, UNITS)
        ctx.error(f"{label}: largest torque error", max(
            max(result.errors[k]) for k in ("torque_inplane_total", "torque_outofplane_total")))
        _lattice.record(ctx, f"sweep_{label}", result, LATTICE_KEYS)
        ctx.setting(**{f"btm_scale_{label}": scale})
        for key, fit in fits.items():
            for name, (value, err) in fit.named().items():
                coefficient_rows.append((label, name, value, err, fit.status))
            ctx.note(_fit_note(label, key, fit))
        v = np.asarray(result.bias_V)
        axes[0].plot(v, np.asarray(result.current_density) / 1e9, "o", color=color, ms=4,
                     label=f"Kwant, {label}")
        axes[0].plot(v, np.asarray(btm["current_density"]) / 1e9, "-", color=color, lw=1,
                     label=f"BTM (×{scale:.2f}), {label}")
        for ax, key in ((axes[1], "torque_inplane"), (axes[2], "torque_outofplane")):
            ax.plot(v, np.asarray(getattr(result, f"{key}_total")) / 1e9, "o", color=color,
                    ms=4, label=f"Kwant total, {label}")
            ax.plot(v, np.asarray(getattr(result, f"{key}_window")) / 1e9, "x", color=color,
                    ms=4, alpha=0.7, label=f"Kwant window, {label}")
            ax.plot(v, btm[f"{key}_total"] / 1e9, "-", color=color, lw=1,
                    label=f"BTM total, {label}")
            fit = fits[f"{key}_total"]
            if fit.meaningful:  # a fit that means nothing is not drawn (see the notes)
                vv = np.linspace(-FIT_RANGE, FIT_RANGE, 61)
                ax.plot(vv, fit(vv) / 1e9, ":", color=color, lw=1.5,
                        label=f"quadratic fit |V| ≤ {FIT_RANGE} V, {label}")
    axes[0].set_ylabel(r"current density $J$ ($10^9$ A/m$^2$)")
    axes[1].set_ylabel(r"$T_\parallel$ ($10^9\,(\hbar/2e)$ A/m$^2$)")
    axes[2].set_ylabel(r"$T_\perp$ ($10^9\,(\hbar/2e)$ A/m$^2$)")
    for ax, title in zip(axes, ("current", "in-plane torque", "out-of-plane torque")):
        ax.set_xlabel("bias $V$ (V)")
        ax.set_title(title)
        ax.axhline(0, color="0.8", lw=0.8)
        ax.axvline(0, color="0.8", lw=0.8)
    axes[0].legend(fontsize=7)
    # T_par: one compact legend (symbols, then colours), where it hides the fewest points
    same = all(np.allclose(r.torque_inplane_window, r.torque_inplane_total, rtol=1e-12, atol=0)
               for r in results)
    line = plt.Line2D
    handles = [line([], [], color="0.3", marker="o", ls="", ms=4, label="Kwant total"),
               line([], [], color="0.3", marker="x", ls="", ms=4,
                    label="Kwant window" + (" (under total: equal)" if same else "")),
               line([], [], color="0.3", lw=1, label="BTM total (scaled)"),
               line([], [], color="0.3", ls=":", lw=1.5,
                    label=f"quadratic fit |V| ≤ {FIT_RANGE} V")]
    handles += [line([], [], color=c, lw=4, label=lab)
                for lab, c in zip(cases, ("C0", "C3"))]
    axes[1].legend(handles=handles, fontsize=7, loc="best")
    # outside the axes: inside, any place hides some of the four T_perp curves
    axes[2].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.suptitle("Fe/MgO-like F/I/F, θ = 90°, T = 0: symmetric (1 nm, 3.62 eV) vs trapezoidal "
                 "barrier (3.37→3.87 eV)", fontsize=10)
    ctx.figure(fig, "bias_dependence")
    ctx.table("coefficients", {"junction": [r[0] for r in coefficient_rows],
                               "coefficient": [r[1] for r in coefficient_rows],
                               "value": [r[2] for r in coefficient_rows],
                               "stderr": [r[3] for r in coefficient_rows],
                               "status": [r[4] for r in coefficient_rows]},
              {"value": "(hbar/2e) A/m^2 / V^k for a_k, b_k", "stderr": "as value",
               "status": "ok, or 'not meaningful: <reason>' (then value and stderr mean "
                         "nothing)"})
    _asymmetry(ctx, cases["symmetric"], rtol)


def _asymmetry(ctx, junction, rtol):
    """b1 versus the slope of a trapezoidal barrier at fixed mean height."""
    import matplotlib.pyplot as plt

    height = float(junction.layers[0].potential)
    slopes = np.linspace(-0.6, 0.6, ctx.pick(3, 9))
    biases = np.linspace(-FIT_RANGE, FIT_RANGE, ctx.pick(5, 13))
    ctx.setting(asymmetry_mean_height_eV=height, asymmetry_slopes_eV=slopes,
                asymmetry_bias_V=biases)
    rows = {"slope_eV": [], "b1": [], "b1_stderr": [], "b1_btm": [], "b0": [], "b2": [],
            "fit_status": []}
    lattice = []
    for slope in slopes:
        variant = mk.junction_with(junction, {"layer[0].potential":
                                              [height - slope / 2, height + slope / 2]})
        result = mk.sweep(variant, biases, parts="total", rtol=rtol,
                          **ctx.scan_options(f"slope_{slope:+.3f}"))
        fit = _fits(result)["torque_outofplane_total"]
        lattice.append(_lattice.relative(result, ("current_density", "torque_outofplane_total")))
        btm, _ = _btm(result, variant)
        btm_fit = fit_outofplane(biases, btm["torque_outofplane_total"], 2)
        rows["slope_eV"].append(slope)
        rows["b1"].append(fit["b1"][0])
        rows["b1_stderr"].append(fit["b1"][1])
        rows["b1_btm"].append(btm_fit["b1"][0])
        rows["b0"].append(fit["b0"][0])
        rows["b2"].append(fit["b2"][0])
        rows["fit_status"].append(fit.status)
    ctx.table("asymmetry", rows, dict(UNITS, b0="(hbar/2e) A/m^2", b2="(hbar/2e) A/m^2/V^2",
                                      b1_btm="(hbar/2e) A/m^2/V"))
    ctx.error("asymmetry sweeps: largest lattice (discretisation) error / max |value|",
              {k: max(r[k] for r in lattice) for k in ("current_density",
                                                       "torque_outofplane_total")})
    ctx.note(_slope_note(rows))
    fig, ax = plt.subplots(figsize=(5.5, 4), constrained_layout=True)
    ax.errorbar(rows["slope_eV"], np.asarray(rows["b1"]) / 1e9,
                yerr=np.asarray(rows["b1_stderr"]) / 1e9, fmt="o", color="C3", label="Kwant")
    ax.plot(rows["slope_eV"], np.asarray(rows["b1_btm"]) / 1e9, "s--", color="0.4", ms=4,
            label="BTM (scaled to Kwant's J/V)")
    ax.axhline(0, color="0.8", lw=0.8)
    ax.set_xlabel("barrier slope $U_R - U_L$ at fixed mean height (eV)")
    ax.set_ylabel(r"$b_1 = \partial T_\perp/\partial V$ at 0 ($10^9\,(\hbar/2e)$ A/m$^2$/V)")
    ax.set_title("linear out-of-plane torque from barrier asymmetry")
    ax.legend()
    ctx.figure(fig, "asymmetry")
