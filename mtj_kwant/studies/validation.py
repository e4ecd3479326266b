"""Where do the analytic models hold?  Kwant against BTM, Slonczewski and diffusion versus κd.

Question: for which barriers (decay constant κ at E_F, normal incidence, times thickness d)
do the simplifications of the model paper reproduce the full quantum-transport result to 5 %:
Slonczewski's thick-barrier linear-response formulas (J = G(θ)V, T∥ = P G₀ sin θ V, window
T⊥), the Bardeen transfer matrix (normal incidence, interfacial torque, Eqs. 3–13) and the
diffusion model of the free layer (Eq. 23 fed with the interfacial spin current)?

Method: free-electron junctions with the Fe-like electrodes of ``mtj_kwant/systems/fe_mgo_fe.toml``
(Stearns' k↑ = 1.09, k↓ = 0.42 Å⁻¹, E_F = 2.62 eV) and one rectangular barrier of uniform mass
(so that Slonczewski's formulas apply), on a grid of barrier heights U − E_F and thicknesses
chosen so that κd runs from 1.5 to 8 (rounded to a multiple of 5 pm); the continuum limit (no
``lattice_spacing``: every point is extrapolated to a → 0 over nested lattices, and its error
estimate covers quadrature and discretisation; the largest discretisation part, relative to
the values, is recorded per junction and in the provenance).  For each junction a
window-part sweep at V = 0, ±0.01, ±0.02 V, θ = 90°, and
:func:`mtj_kwant.comparison.compare`.  The deviation of a model is measured on the
linear-response coefficient, |c1(model)/c1(Kwant) − 1|, with c1 the linear coefficient of the
quadratic fits that ``compare`` makes of J, T∥ and T⊥ (the conductance and the torkances; the
V² terms, which Slonczewski's linear response does not contain, drop out); the table also
holds compare()'s max |model − Kwant| / max |Kwant| over |V| ≤ 0.02 V, which includes them.

The BTM is, as ``compare`` does by default, multiplied by one factor s that matches Kwant's
J/V at 0.01 V: its J therefore agrees by construction, and its T∥ and T⊥ deviations measure
the ratios T∥/J (P at normal incidence versus Kwant's k∥-integrated one) and T⊥/T∥.

Diffusion: Eq. (23) needs a finite free layer, so a small F/I/F/N set (``mtj_kwant/systems/fifn_2nm.toml``:
2 nm Fe-like free layer, Cu-like cap, the same barrier grid at two heights).  Kwant's model is
ballistic (no spin flip, no disorder), so the diffusion parameters are λ_sf = ∞, λ_J = λ_φ =
1/(k↑ − k↓) = 0.15 nm (the precession length of the Fe-like bands, over which the k∥-average
dephases the transverse spin), cap λ_N = 1 nm, D_N/D_F = 1.  With d = 2 nm ≫ |L| this is the
interfacial-absorption limit of Eq. (23), torque = interfacial spin current J₀ (to 1e-6), so
the comparison tests whether a ballistic 2 nm free layer absorbs the spin current it receives.

What to look for: Slonczewski converges to Kwant as e^{-2κd}; the BTM's error is set by the
width of the tunnelling cone, κ/d, relative to k↓², not by κd alone; the torque on a ballistic
2 nm free layer is not the interfacial spin current for T⊥ (quantum-well interference).

Outputs: ``validation.png`` (deviation versus κd, 5 % line, one panel per model),
``btm_cone.png`` (BTM deviation versus κ/(d k↓²)), ``validation.csv`` (one row per junction),
``validation_thresholds.csv`` (the κd above which each model and quantity holds to 5 %),
``provenance.json``.
"""

import math

import numpy as np

import mtj_kwant as mk
from mtj_kwant.analytic.slonczewski import (
    FreeElectronElectrode,
    barrier_decay_constant,
    polarization,
    slonczewski_per_area,
    spin_wavevectors,
)
from mtj_kwant.comparison import compare
from mtj_kwant.ratios import ratio

from . import _lattice

TITLE = "Validity of the BTM, Slonczewski and diffusion models versus κd (5 % criterion)"
THRESHOLD = 0.05
BIAS = [-0.02, -0.01, 0.0, 0.01, 0.02]  # V
#: Barrier thicknesses are rounded to a multiple of this (nm), so that round lattice steps
#: divide them (the continuum extrapolation picks its lattices itself).
THICKNESS_STEP = 0.005
QUANTITIES = {"current_density": "J", "torque_inplane": "T∥", "torque_outofplane": "T⊥"}
LATTICE_KEYS = ("current_density", "torque_inplane_window", "torque_outofplane_window")
COLORS = {"current_density": "k", "torque_inplane": "C0", "torque_outofplane": "C3"}
MARKERS = ["o", "s", "^", "D", "v"]
CANCEL = 0.03  # |T∥/J| below which the in-plane torkance nearly cancels (P_eff ≈ 0)


def _junction(base, height, kd, free=None):
    """Base junction with barrier height E_F + height and thickness ≈ kd/κ (a multiple of
    THICKNESS_STEP)."""
    ef = base.fermi_energy
    kappa = float(barrier_decay_constant(ef, ef + height))
    d = max(2, round(kd / kappa / THICKNESS_STEP)) * THICKNESS_STEP
    changes = {"layer[0].thickness": round(d, 6), "layer[0].potential": ef + height}
    if free is not None:
        changes["layer[1].thickness"] = free
    return mk.junction_with(base, changes), kappa, round(d, 6)


def _linear(comp, source, quantity):
    """Linear coefficient c1 of compare()'s quadratic fit and its error (NaN, NaN: no fit).

    The error is the fit's standard uncertainty plus, for Kwant, the integration error
    estimates propagated through the (linear) fit, |pinv(A)[1]| @ errors.
    """
    fit = comp.fits.get(source, {}).get(quantity)
    if fit is None or not fit.meaningful:
        return np.nan, np.nan
    c1, err = float(fit.coefficients[1]), float(fit.stderr[1])
    if source == "kwant":
        design = np.vander(np.asarray(comp.bias_V, float), fit.degree + 1, increasing=True)
        errors = np.nan_to_num(np.abs(comp.kwant[f"{quantity}_error"]))
        err += float(np.abs(np.linalg.pinv(design)[1]) @ errors)
    return c1, err


def run(ctx):
    import matplotlib.pyplot as plt

    heights = ctx.pick([1.0, 4.0], [0.5, 1.0, 2.0, 4.0])
    kds = ctx.pick([1.5, 3.0, 6.0], [1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.5, 8.0])
    fifn_heights = ctx.pick([1.0], [1.0, 3.0])
    fifn_kds = ctx.pick([1.5, 4.0], [1.5, 2.5, 4.0, 6.0, 8.0])
    rtol = ctx.pick(1e-3, 1e-5)
    fif = ctx.junction("fe_mgo_fe")
    fifn = ctx.junction("fifn_2nm")
    ef = fif.fermi_energy
    k_up, k_dn = (float(k) for k in spin_wavevectors(ef, fif.left.potential, fif.left.exchange))
    lam = 1.0 / (k_up - k_dn)
    diffusion = dict(lambda_J=lam, lambda_phi=lam, lambda_sf=np.inf, lambda_N=1.0,
                     diffusion_ratio=1.0)
    ctx.setting(bias_V=BIAS, theta_deg=90.0, temperature_K=0.0, rtol=rtol,
                lattice=_lattice.CONTINUUM, thickness_step_nm=THICKNESS_STEP,
                barrier_heights_above_EF_eV=heights,
                kappa_d_targets=kds, fifn_barrier_heights_above_EF_eV=fifn_heights,
                fifn_kappa_d_targets=fifn_kds, fifn_free_layer_nm=2.0,
                electrodes="fe_mgo_fe.toml: E_F 2.62 eV, band bottom 0, exchange 3.86 eV, m = m_e",
                k_up_per_nm=k_up, k_down_per_nm=k_dn,
                diffusion={**{k: v for k, v in diffusion.items() if k != "lambda_sf"},
                           "lambda_sf": "inf (no spin flip in the Kwant model)",
                           "why": "lambda_J = lambda_phi = 1/(k_up - k_down) at E_F; with "
                                  "d = 2 nm >> |L| Eq. 23 reduces to torque = interfacial J0"},
                deviation_measure="|c1_model / c1_kwant - 1|, c1 = linear coefficient of "
                                  "compare()'s quadratic fits over |V| <= 0.02 V",
                btm_normalisation="compare() default: one factor on J, T_par, T_perp matching "
                                  "Kwant's J/V at |V| = 0.01 V")

    rows = []
    cases = [("F/I/F", h, kd) for h in heights for kd in kds]
    cases += [("F/I/F/N", h, kd) for h in fifn_heights for kd in fifn_kds]
    for kind, height, kd in cases:
        if kind == "F/I/F":
            junction, kappa, d = _junction(fif, height, kd)
            label = f"fif_h{height:g}_d{d:g}"
        else:
            junction, kappa, d = _junction(fifn, height, kd, free=2.0)
            label = f"fifn_h{height:g}_d{d:g}"
        result = mk.sweep(junction, BIAS, theta=math.pi / 2, rtol=rtol,
                          **ctx.scan_options(label))
        comp = compare(result, junction, diffusion=diffusion if kind == "F/I/F/N" else None)
        lattice = _lattice.record(ctx, label, result, LATTICE_KEYS)
        row = {"set": kind, "label": label, "height_above_EF_eV": height, "barrier_nm": d,
               "kappa_d_target": kd,
               "kappa_per_nm": kappa, "kappa_d": kappa * d,
               "cone_parameter": kappa / (d * k_dn**2),
               "P_normal_incidence": float(polarization(k_up, k_dn, kappa)),
               "btm_scale": comp.scales.get("btm", {}).get("factor", np.nan),
               "kwant_max_rel_error": max(
                   np.max(np.abs(result.errors[f]) / max(np.max(np.abs(getattr(result, f))), 1e-300))
                   for f in ("current_density", "torque_inplane_window",
                             "torque_outofplane_window")),
               "kwant_max_rel_lattice_error": max(lattice[k] for k in LATTICE_KEYS),
               "finest_step_nm": lattice["finest_step_nm"],
               "converged": all(result.converged)}
        c1 = {}
        for q in QUANTITIES:
            c1[q] = _linear(comp, "kwant", q)
            row[f"kwant_c1_{q}"], row[f"kwant_c1_{q}_error"] = c1[q]
        # honest ratios (mtj_kwant.ratios): a denominator zero within its error gives inf/NaN
        for key, num, den in (("kwant_Tpar_over_J", "torque_inplane", "current_density"),
                              ("kwant_Tperp_over_Tpar", "torque_outofplane",
                               "torque_inplane")):
            r = ratio(*c1[num], *c1[den], name=key, num_name=f"c1 of {num}",
                      den_name=f"c1 of {den}")
            row[key], row[f"{key}_error"] = r.value, r.error
            if not r.ok:
                ctx.note(f"{label}: {key} = {r.text()}")
        for model in ("slonczewski", "btm", "diffusion"):
            for q in QUANTITIES:
                lin = lin_err = dev_max = np.nan
                if model in comp.models and np.all(np.isfinite(comp.models[model][q])):
                    r = ratio(*_linear(comp, model, q), *c1[q], name=f"c1({model})/c1(Kwant)",
                              num_name=f"c1 of {model}'s {q}", den_name=f"Kwant's c1 of {q}")
                    lin, lin_err = abs(r.value - 1.0), r.error
                    if not r.ok:
                        ctx.note(f"{label}: deviation of {model} {q} is {r.text()}")
                    dev_max = comp.deviation(model, q, max_bias=0.02)["max_rel"]
                row[f"dev_{model}_{q}"] = lin
                row[f"dev_{model}_{q}_error"] = lin_err
                row[f"devmax_{model}_{q}"] = dev_max
        rows.append(row)
        for note in comp.notes:
            if not note.startswith(("diffusion: skipped", "slonczewski: skipped")):
                ctx.note(f"{label}: {note}")
    columns = {key: [r[key] for r in rows] for key in rows[0]}
    units = {"height_above_EF_eV": "eV", "barrier_nm": "nm", "kappa_per_nm": "1/nm",
             "kappa_d": "1", "kappa_d_target": "1 (grid value; kappa_d is the actual one, "
             "d rounded to a multiple of THICKNESS_STEP)",
             "cone_parameter": "1 (kappa / (d k_down^2))",
             "P_normal_incidence": "1", "btm_scale": "1",
             "kwant_max_rel_error": "1 (error estimate, quadrature + discretisation, / "
                                    "max |value|, largest of J, T_par, T_perp)",
             "kwant_max_rel_lattice_error": "1 (its discretisation part / max |value|)",
             "finest_step_nm": "nm (finest lattice step of the continuum extrapolation)",
             "kwant_c1_current_density": "A/(V m^2)",
             "kwant_c1_torque_inplane": "(hbar/2e) A/(V m^2)",
             "kwant_c1_torque_outofplane": "(hbar/2e) A/(V m^2)",
             **{f"kwant_c1_{q}_error": u for q, u in (
                 ("current_density", "A/(V m^2)"), ("torque_inplane", "(hbar/2e) A/(V m^2)"),
                 ("torque_outofplane", "(hbar/2e) A/(V m^2)"))},
             "kwant_Tpar_over_J": "1 (inf/NaN: the denominator is zero within its error)",
             "kwant_Tperp_over_Tpar": "1 (inf/NaN: the denominator is zero within its error)",
             "kwant_Tpar_over_J_error": "1", "kwant_Tperp_over_Tpar_error": "1",
             **{k: "1 (relative deviation; inf/NaN: Kwant's c1 is zero within its error)"
                for k in columns if k.startswith("dev")}}
    ctx.table("validation", columns, units)
    ctx.error("largest Kwant error estimate, quadrature + discretisation (relative to max "
              "|value| of each list)", float(np.max(columns["kwant_max_rel_error"])))
    lattice = _lattice_summary(ctx, rows)

    thresholds = _thresholds(ctx, rows)
    _summary_notes(ctx, rows)
    _cubic_check(ctx, fif, heights, kds, rtol)
    _figure(ctx, rows, thresholds, heights, fifn_heights, lattice, plt)
    _cone_figure(ctx, rows, plt)


def _lattice_summary(ctx, rows):
    """The continuum results' own error estimates: the largest over all junctions.

    Returns the largest combined (quadrature + discretisation) error estimate relative to
    max |value|, the floor below which a deviation from a model is not resolved.
    """
    total = max(r["kwant_max_rel_error"] for r in rows)
    lat = max(r["kwant_max_rel_lattice_error"] for r in rows)
    worst = max(rows, key=lambda r: r["kwant_max_rel_lattice_error"])
    ctx.error("largest discretisation error estimate relative to max |value| (J, T_par, T_perp, "
              "all junctions)", lat)
    ctx.note(f"lattice: continuum limit (no lattice_spacing); the largest error estimate "
             f"relative to max |value| is {total:.2g} (quadrature + discretisation), of which "
             f"discretisation {lat:.2g} ({worst['label']}); finest lattice steps "
             f"{min(r['finest_step_nm'] for r in rows):g}-"
             f"{max(r['finest_step_nm'] for r in rows):g} nm")
    return float(total)


def _cubic_check(ctx, fif, heights, kds, rtol):
    """What sets the floor of the J deviation of thick, low barriers?

    The deviation is measured on the linear coefficient of a quadratic fit over |V| <= 0.02 V,
    which keeps a share of the V^3 term of J.  For the lowest, thickest barrier of the grid,
    the odd part [J(V) - J(-V)]/2V against Slonczewski's conductance at decreasing |V|: a
    deviation falling as V^2 is that term, not a lattice or thick-barrier error.
    """
    h, kd = min(heights), max(kds)
    junction, _, d = _junction(fif, h, kd)
    ef = fif.fermi_energy
    electrode = FreeElectronElectrode(band_bottom=fif.left.potential,
                                      exchange=fif.left.exchange, mass=fif.effective_mass)
    g = float(slonczewski_per_area(ef, electrode, electrode, ef + h, d).conductance(math.pi / 2))
    small = [0.0025, 0.005, 0.01, 0.02]
    r = mk.sweep(junction, sorted([-v for v in small] + small), theta=math.pi / 2, rtol=rtol,
                 **ctx.scan_options(f"cubic_h{h:g}_d{d:g}"))
    current = dict(zip(np.round(r.bias_V, 9), r.current_density))
    error = dict(zip(np.round(r.bias_V, 9), r.errors["current_density"]))
    odd = np.array([(current[v] - current[-v]) / (2 * v) for v in small])
    odd_err = np.array([(error[v] + error[-v]) / (2 * v) for v in small])
    dev = np.abs(odd / g - 1)
    ctx.table("cubic_check", {"bias_V": small, "odd_conductance": odd,
                              "odd_conductance_error": odd_err, "slonczewski_conductance":
                              np.full(len(small), g), "deviation": dev},
              {"bias_V": "V", "odd_conductance": "S/m^2 ([J(V) - J(-V)] / 2V)",
               "odd_conductance_error": "S/m^2", "slonczewski_conductance": "S/m^2",
               "deviation": "1 (|odd / slonczewski - 1|)"})
    slope = np.polyfit(np.log(small), np.log(dev), 1)[0]
    ctx.note(f"slonczewski, U - E_F = {h:g} eV, d = {d:g} nm: the odd part [J(V) - J(-V)]/2V "
             "deviates from Slonczewski's conductance by "
             + ", ".join(f"{x:.2g}" for x in dev) + " at |V| = "
             + ", ".join(f"{v:g}" for v in small) + f" V (~ |V|^{slope:.1f}): the floor of "
             "the deviation of thick, low barriers is the V^3 term of J that the quadratic fit "
             "over |V| <= 0.02 V leaves in the linear coefficient, not a lattice error")


def _summary_notes(ctx, rows):
    """What the numbers in the table mean, in sentences."""
    fif = [r for r in rows if r["set"] == "F/I/F"]
    thick = [r for r in fif if r["kappa_d_target"] >= 3]
    if thick:
        dm = [r["devmax_slonczewski_torque_inplane"] for r in thick]
        ctx.note("slonczewski: compare()'s max |model - Kwant| / max |Kwant| over |V| <= 0.02 V "
                 f"for T_par at kappa d >= 3 is {min(dm):.3f} to {max(dm):.3f}: it includes "
                 "Kwant's V^2 term, which linear response does not have (largest where the "
                 "linear term nearly cancels); the linear coefficients agree to "
                 f"{max(r['dev_slonczewski_torque_inplane'] for r in thick):.4f}")
        thin = [r for r in fif if r["kappa_d_target"] <= 2.5]
        if len({r["kappa_d_target"] for r in thin}) >= 2:
            fit = np.polyfit([r["kappa_d"] for r in thin],
                             [np.log(r["dev_slonczewski_current_density"]) for r in thin], 1)
            ctx.note(f"slonczewski: for kappa d <= 2.5 the deviation of J falls as exp("
                     f"{fit[0]:.2f} kappa d) (thick-barrier corrections, expected exp(-2 kappa d))")
        for h in sorted({r["height_above_EF_eV"] for r in fif}):
            sel = sorted((r for r in fif if r["height_above_EF_eV"] == h),
                         key=lambda r: r["kappa_d"])
            low = min(sel, key=lambda r: r["dev_slonczewski_current_density"])
            ctx.note(f"slonczewski, U - E_F = {h:g} eV: deviation of J "
                     + ", ".join(f"{r['dev_slonczewski_current_density']:.2g}" for r in sel)
                     + " at kappa d = " + ", ".join(f"{r['kappa_d']:.1f}" for r in sel)
                     + f"; smallest {low['dev_slonczewski_current_density']:.2g} at kappa d = "
                       f"{low['kappa_d']:.1f}; Kwant's error estimate at most "
                       f"{max(r['kwant_max_rel_error'] for r in sel):.2g} (relative)")
    scales = [r["btm_scale"] for r in fif]
    ctx.note("btm: compare() multiplies the BTM J, T_par and T_perp by one factor s matching "
             f"Kwant's J/V at 0.01 V; s = {min(scales):.2f} to {max(scales):.2f} here (the "
             "per-area BTM with its Gaussian k_par weight overestimates J by up to "
             f"{1 / min(scales):.1f}x for thin, high barriers); so J agrees by construction and "
             "the T_par deviation is that of T_par/J, the normal-incidence P of the BTM "
             "against Kwant's k_par-integrated ratio")
    for h in sorted({r["height_above_EF_eV"] for r in fif}):
        sel = [r for r in fif if r["height_above_EF_eV"] == h]
        ctx.note(f"btm, U - E_F = {h:g} eV: P(normal incidence) = {sel[0]['P_normal_incidence']:.3f}"
                 f", Kwant T_par/J = {min(r['kwant_Tpar_over_J'] for r in sel):.3f} to "
                 f"{max(r['kwant_Tpar_over_J'] for r in sel):.3f} over kappa d "
                 f"{min(r['kappa_d'] for r in sel):.1f}-{max(r['kappa_d'] for r in sel):.1f}; "
                 f"smallest BTM deviation T_par {min(r['dev_btm_torque_inplane'] for r in sel):.3f}"
                 f", T_perp {min(r['dev_btm_torque_outofplane'] for r in sel):.3f}; narrowest "
                 f"cone kappa/(d k_down^2) = {min(r['cone_parameter'] for r in sel):.2f}")
    fifn = [r for r in rows if r["set"] == "F/I/F/N"]
    if fifn:
        ctx.note("diffusion: with lambda_sf = inf and d >> |L| Eq. 23 predicts torque = the "
                 "interfacial spin current J0; the ballistic 2 nm free layer gives T_par within "
                 f"{min(r['dev_diffusion_torque_inplane'] for r in fifn):.3f} to "
                 f"{max(r['dev_diffusion_torque_inplane'] for r in fifn):.3f} and T_perp within "
                 f"{min(r['dev_diffusion_torque_outofplane'] for r in fifn):.2f} to "
                 f"{max(r['dev_diffusion_torque_outofplane'] for r in fifn):.2f} of it: the "
                 "transverse spin current is not fully absorbed (it precesses coherently, "
                 "interferes with its reflection at the cap and partly leaves into the cap)")
        for h in sorted({r["height_above_EF_eV"] for r in fifn}):
            sel = sorted((r for r in fifn if r["height_above_EF_eV"] == h),
                         key=lambda r: r["kappa_d"])
            ctx.note(f"diffusion, U - E_F = {h:g} eV: deviation of T_perp "
                     + ", ".join(f"{r['dev_diffusion_torque_outofplane']:.2f}" for r in sel)
                     + ", of T_par "
                     + ", ".join(f"{r['dev_diffusion_torque_inplane']:.3f}" for r in sel)
                     + " at kappa d = " + ", ".join(f"{r['kappa_d']:.1f}" for r in sel)
                     + " (growth with kappa d is consistent with the narrower tunnelling cone of "
                       "thicker barriers, whose k_par average dephases the precessing spin less)")


def _thresholds(ctx, rows):
    """Smallest κd above which every junction of the set is within 5 %."""
    out = {"model": [], "quantity": [], "set": [], "kappa_d_5pct": [],
           "kappa_d_5pct_excluding_cancellation": [], "max_dev_above": [],
           "min_dev": [], "max_dev": []}
    text = []
    for model, kind in (("slonczewski", "F/I/F"), ("btm", "F/I/F"), ("diffusion", "F/I/F/N")):
        for q, name in QUANTITIES.items():
            # inf (Kwant's c1 zero within its error, the model's not) counts as > 5 %
            sel = [r for r in rows if r["set"] == kind and not np.isnan(r[f"dev_{model}_{q}"])]
            if not sel or (model == "btm" and q == "current_density"):
                continue
            res = []
            for exclude in (False, True):
                pts = [r for r in sel if not (exclude and _cancels(r, q))]
                kd = np.array([r["kappa_d_target"] for r in pts])
                dev = np.array([r[f"dev_{model}_{q}"] for r in pts])
                bad = kd[dev > THRESHOLD]
                if bad.size == 0:
                    res.append(float(kd.min()))
                elif np.all(dev[kd > bad.max()] <= THRESHOLD) and np.any(kd > bad.max()):
                    res.append(float(kd[kd > bad.max()].min()))
                else:
                    res.append(np.nan)
            dev_all = np.array([r[f"dev_{model}_{q}"] for r in sel])
            kd_all = np.array([r["kappa_d_target"] for r in sel])
            above = dev_all[kd_all >= res[0]] if np.isfinite(res[0]) else np.array([np.nan])
            out["model"].append(model)
            out["quantity"].append(q)
            out["set"].append(kind)
            out["kappa_d_5pct"].append(res[0])
            out["kappa_d_5pct_excluding_cancellation"].append(res[1])
            out["max_dev_above"].append(float(np.max(above)))
            out["min_dev"].append(float(dev_all.min()))
            out["max_dev"].append(float(dev_all.max()))
            where = (f"kappa d >= {res[0]:g}" if np.isfinite(res[0])
                     else "nowhere on the grid (kappa d 1.5-8)")
            extra = ""
            if res[1] != res[0] and not (np.isnan(res[0]) and np.isnan(res[1])):
                extra = (f"; without the junctions where {name} nearly cancels (|{name}/J| < "
                         f"{CANCEL}): " + (f"kappa d >= {res[1]:g}" if np.isfinite(res[1])
                                           else "nowhere"))
            line = (f"{model} {name} ({kind}): within 5 %: {where}{extra} "
                    f"(deviations {dev_all.min():.2g} to {dev_all.max():.2g})")
            ctx.note(line)
            text.append((model, q, res[0], res[1]))
    ctx.table("validation_thresholds", out, {
        "kappa_d_5pct": "1 (grid kappa d target; NaN: not within 5 % above any kappa d of the "
                        "grid)",
        "kappa_d_5pct_excluding_cancellation": "1", "max_dev_above": "1", "min_dev": "1",
        "max_dev": "1"})
    return text


def _cancels(row, quantity="torque_inplane"):
    """True where Kwant's torkance is small against its conductance (|c1_T/c1_J| < CANCEL),
    so that a relative deviation of that torque is a ratio of two small numbers."""
    if quantity == "current_density":
        return False
    return abs(row[f"kwant_c1_{quantity}"] / row["kwant_c1_current_density"]) < CANCEL


def _figure(ctx, rows, thresholds, heights, fifn_heights, error, plt):
    # bottom of the axes: below Kwant's error estimate and below the smallest deviation
    devs = [r[f"dev_{m}_{q}"] for r in rows for m in ("slonczewski", "btm", "diffusion")
            for q in QUANTITIES if np.isfinite(r.get(f"dev_{m}_{q}", np.nan))]
    floor = 10 ** math.floor(math.log10(min(1e-5, 0.3 * error, 0.5 * min(devs))))
    markers = dict(zip(sorted(set(heights) | set(fifn_heights)), MARKERS))
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.4), constrained_layout=True, sharey=True)
    panels = (("slonczewski", "F/I/F", heights, "Slonczewski (thick barrier, linear response)"),
              ("btm", "F/I/F", heights, "Bardeen transfer matrix (J scaled to Kwant)"),
              ("diffusion", "F/I/F/N", fifn_heights,
               "diffusion, Eq. 23 with Kwant's interfacial J₀ (2 nm free layer)"))
    for ax, (model, kind, hs, title) in zip(axes, panels):
        for q, name in QUANTITIES.items():
            if model in ("btm", "diffusion") and q == "current_density":
                continue
            for h in hs:
                marker = markers[h]
                pts = sorted((r for r in rows if r["set"] == kind and r["height_above_EF_eV"] == h),
                             key=lambda r: r["kappa_d"])
                kd = np.array([r["kappa_d"] for r in pts])
                dev = np.array([r[f"dev_{model}_{q}"] for r in pts])
                ok = np.isfinite(dev)
                if not ok.any():
                    continue
                ax.plot(kd[ok], np.maximum(dev[ok], floor), "-", color=COLORS[q], lw=0.6,
                        alpha=0.5)
                filled = np.array([not _cancels(r, q) for r in pts])[ok]
                ax.scatter(kd[ok][filled], np.maximum(dev[ok][filled], floor), marker=marker,
                           color=COLORS[q], s=28, zorder=3)
                ax.scatter(kd[ok][~filled], np.maximum(dev[ok][~filled], floor), marker=marker,
                           facecolors="none", edgecolors=COLORS[q], s=28, zorder=3)
        ax.axhline(THRESHOLD, color="k", ls="--", lw=1)
        ax.text(0.99, THRESHOLD * 1.12, "5 %", fontsize=8, ha="right",
                transform=ax.get_yaxis_transform())  # at the right end, clear of the points
        if model == "slonczewski":
            kd = np.linspace(1.4, 8.2, 50)
            ax.plot(kd, np.exp(-2 * kd), color="0.5", lw=1.2, ls="-.",
                    label=r"$e^{-2\kappa d}$ (thick-barrier correction)")
            ax.axhspan(floor, error, color="0.9", zorder=0,
                       label=f"Kwant's error estimate (up to {error:.1g})")
        ax.set_yscale("log")
        ax.set_ylim(floor, 30)
        ax.set_xlabel(r"$\kappa d$  (dimensionless; $\kappa$ at $E_F$, normal incidence)")
        ax.set_title(title, fontsize=10)
        lines = []
        for m, q, kd5, kd5x in thresholds:
            if m != model:
                continue
            where = f"κd ≥ {kd5:.1f}" if np.isfinite(kd5) else "nowhere"
            if kd5x != kd5 and np.isfinite(kd5x):
                where += f" ({kd5x:.1f} w/o open symbols)"
            lines.append(f"{QUANTITIES[q]} within 5 %: {where}")
        # Slonczewski: the small deviations of thick barriers fill the lower right
        x_text, align = (0.03, "left") if model == "slonczewski" else (0.97, "right")
        ax.text(x_text, 0.03, "\n".join(lines), transform=ax.transAxes, ha=align, va="bottom",
                fontsize=8, bbox=dict(facecolor="white", edgecolor="0.7", alpha=0.9))
    axes[0].set_ylabel(r"deviation $|c_1^{\rm model}/c_1^{\rm Kwant} - 1|$  (dimensionless)")
    handles = [plt.Line2D([], [], color=COLORS[q], marker="o", ls="-", label=name)
               for q, name in QUANTITIES.items()]
    handles += [plt.Line2D([], [], color="0.4", marker=m, ls="", label=f"U − E_F = {h:g} eV")
                for h, m in markers.items()]
    handles.append(plt.Line2D([], [], color="0.4", marker="o", mfc="none", ls="",
                              label=f"open: |T/J| < {CANCEL} (that torque nearly cancels)"))
    extra, _ = axes[0].get_legend_handles_labels()
    axes[0].legend(handles=handles + extra, fontsize=7.5, loc="upper right", ncol=2)
    fig.suptitle("Kwant (free-electron, Fe-like electrodes, rectangular barrier, θ = 90°, window "
                 "parts, |V| ≤ 0.02 V) against the analytic models; c₁: linear-response "
                 "coefficient", fontsize=11)
    ctx.figure(fig, "validation")


def _cone_figure(ctx, rows, plt):
    """BTM deviation against the width of the tunnelling cone, κ/(d k↓²)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    fig, ax = plt.subplots(figsize=(6.2, 4.6), constrained_layout=True)
    pts = [r for r in rows if r["set"] == "F/I/F"]
    heights = sorted({r["height_above_EF_eV"] for r in pts})
    for q in ("torque_inplane", "torque_outofplane"):
        for h, marker in zip(heights, MARKERS):
            sel = sorted((r for r in pts if r["height_above_EF_eV"] == h),
                         key=lambda r: r["cone_parameter"])
            x = np.array([r["cone_parameter"] for r in sel])
            y = np.array([r[f"dev_btm_{q}"] for r in sel])
            filled = np.array([not _cancels(r, q) for r in sel])
            ax.plot(x, y, "-", color=COLORS[q], lw=0.6, alpha=0.5)
            ax.scatter(x[filled], y[filled], marker=marker, color=COLORS[q], s=28, zorder=3)
            ax.scatter(x[~filled], y[~filled], marker=marker, facecolors="none",
                       edgecolors=COLORS[q], s=28, zorder=3)
    ax.axhline(THRESHOLD, color="k", ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    # labels at 1, 2, 5 × 10ⁿ in plain numbers; the default labels of the minor ticks
    # ("3×10⁻¹", "4×10⁻¹") run into each other on a range below two decades
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(r"cone parameter $\kappa/(d\,k_\downarrow^2)$  (dimensionless)")
    ax.set_ylabel(r"BTM deviation $|c_1^{\rm BTM}/c_1^{\rm Kwant} - 1|$  (dimensionless)")
    ax.set_title("BTM (normal incidence) vs Kwant against the width of the tunnelling cone",
                 fontsize=9.5)
    handles = [plt.Line2D([], [], color=COLORS[q], marker="o", label=QUANTITIES[q])
               for q in ("torque_inplane", "torque_outofplane")]
    handles += [plt.Line2D([], [], color="0.4", marker=m, ls="", label=f"U − E_F = {h:g} eV")
                for h, m in zip(heights, MARKERS)]
    handles.append(plt.Line2D([], [], color="k", ls="--", label="5 %"))
    handles.append(plt.Line2D([], [], color="0.4", marker="o", mfc="none", ls="",
                              label=f"open: |T/J| < {CANCEL}"))
    ax.legend(handles=handles, fontsize=8)
    ctx.figure(fig, "btm_cone")
