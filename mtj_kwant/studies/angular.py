"""Angular dependence of the torques and the conductance: the sin θ and 1 + P² cos θ forms.

Question: do T∥(θ) and T⊥(θ) follow sin θ and the conductance G(θ) follow
G₀(1 + P² cos θ), as Slonczewski's thick-barrier theory says (model paper, section 3), and how
far from these forms does a thin barrier go?  Which P describes G(θ): the one fitted to it,
the normal-incidence P of Slonczewski's formula (``analytic.slonczewski.polarization``) or
the k∥-integrated one?

Method: free-electron F/I/F junctions with the Fe-like electrodes of
``mtj_kwant/systems/fe_mgo_fe.toml`` (E_F = 2.62 eV, exchange 3.86 eV) and a rectangular barrier
3 eV above E_F (κ = 8.87 nm⁻¹ at E_F, normal incidence) of three thicknesses, κd ≈ 8 (thick),
1.5 and 0.5 (thin), rounded to a multiple of 5 pm; the continuum limit (no
``lattice_spacing``: nested lattices and Richardson extrapolation, the discretisation error
in every error estimate and in ``*_lattice_error``).  ``mk.scan`` over θ (p = z, m in the
x–z plane) and V = −0.01, 0, +0.01 V, parts "both".  The conductance and torkances are the
odd parts G = [J(V) − J(−V)]/2V and τ = [T(V) − T(−V)]/2V of the *window* torques (linear response;
the V² terms drop out); T⊥ is also shown as the *total* torque at V = 0, the interlayer
exchange torque b0(θ).  Least-squares fits A sin θ (torques) and G₀ + G₁ cos θ, P² = G₁/G₀
(conductance), and for the size of the deviation the second harmonics (A₂ sin 2θ,
G₂ cos 2θ).  Overlaid: Slonczewski's per-area thick-barrier G(θ) and torkances
(``slonczewski_per_area``, k∥-integrated) and G₀(1 + P_n² cos θ), P_n sin θ with the
normal-incidence P_n.

What to look for: the thick barrier follows both forms to the integration accuracy; the
thin barrier acquires a sin 2θ (torque) and cos 2θ (conductance) component from multiple
reflections in the barrier; P_n is far from the P that describes G(θ) unless the tunnelling
cone is narrow, and P² from G(θ) differs from (T∥/G₀)² because the k∥ average of P² is not
the square of the average of P.

Outputs: ``angular.png`` (G, τ∥, τ⊥, b0 versus θ with fits and models, one column per
junction), ``angular_deviation.png`` (data − fit versus θ), ``angular_<junction>.csv`` (every
curve), ``angular_fits.csv`` (fit parameters, P values, harmonic content), ``provenance.json``.
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

from mtj_kwant.ratios import ratio

from . import _lattice

TITLE = "Angular dependence: T∥, T⊥ ∝ sin θ and G ∝ 1 + P² cos θ, thick versus thin barriers"
HEIGHT = 3.0  # eV above E_F
#: Barrier thicknesses are rounded to a multiple of this (nm), so that round lattice steps
#: divide them (the continuum extrapolation picks its lattices itself).
THICKNESS_STEP = 0.005
BIAS = 0.01  # V
KAPPA_D = {"thick": 8.0, "medium": 1.5, "thin": 0.5}
COLORS = {"thick": "C0", "medium": "C2", "thin": "C3"}


def _odd(frame, key):
    """Odd part per volt of a column: [X(+V) − X(−V)] / 2V, indexed by θ (deg)."""
    plus = frame[np.isclose(frame.bias_V, BIAS)].set_index("theta_deg")[key]
    minus = frame[np.isclose(frame.bias_V, -BIAS)].set_index("theta_deg")[key]
    return (plus - minus).sort_index().to_numpy() / (2 * BIAS)


def _odd_error(frame, key):
    plus = frame[np.isclose(frame.bias_V, BIAS)].set_index("theta_deg")[key]
    minus = frame[np.isclose(frame.bias_V, -BIAS)].set_index("theta_deg")[key]
    return (plus.abs() + minus.abs()).sort_index().to_numpy() / (2 * BIAS)


def _linear_fit(basis, y, err):
    """Least squares y ≈ Σ c_k basis_k; returns c and |pinv| @ err (the data errors, which
    are integration error estimates rather than random, propagated as a worst case)."""
    pinv = np.linalg.pinv(np.vstack(basis).T)
    return pinv @ y, np.abs(pinv) @ np.nan_to_num(np.abs(err))


def _fit_sin(theta, y, err):
    """A sin θ and A sin θ + A2 sin 2θ least squares.

    Returns (A, δA) and ((A1, A2), (δA1, δA2)).
    """
    s = np.sin(theta)
    (a,), (da,) = _linear_fit([s], y, err)
    return (float(a), float(da)), _linear_fit([s, np.sin(2 * theta)], y, err)


def _fit_cos(theta, y, err):
    """G0 + G1 cos θ and G0 + G1 cos θ + G2 cos 2θ least squares, each as (values, errors)."""
    c = np.cos(theta)
    one = np.ones_like(c)
    return _linear_fit([one, c], y, err), _linear_fit([one, c, np.cos(2 * theta)], y, err)


def run(ctx):
    import matplotlib.pyplot as plt

    base = ctx.junction("fe_mgo_fe")
    ef = base.fermi_energy
    theta_deg = np.linspace(0.0, 180.0, ctx.pick(7, 37))
    theta = np.radians(theta_deg)
    # 3e-6: each lattice of the continuum extrapolation is integrated to rtol/3 = 1e-6; at
    # rtol = 1e-6 (rtol/3 per lattice) the Fermi-sea contour of the thick barrier's small b0
    # does not reach its tolerance within max_eval (floating-point floor ~1e-6 of b0)
    rtol = ctx.pick(1e-3, 3e-6)
    kappa = float(barrier_decay_constant(ef, ef + HEIGHT))
    k_up, k_dn = (float(k) for k in spin_wavevectors(ef, base.left.potential, base.left.exchange))
    p_normal = float(polarization(k_up, k_dn, kappa))
    electrode = FreeElectronElectrode(band_bottom=base.left.potential,
                                      exchange=base.left.exchange, mass=base.effective_mass)
    ctx.setting(theta_deg=theta_deg, bias_V=[-BIAS, 0.0, BIAS], rtol=rtol, parts="both",
                barrier_height_above_EF_eV=HEIGHT, kappa_per_nm=kappa,
                lattice=_lattice.CONTINUUM, thickness_step_nm=THICKNESS_STEP,
                k_up_per_nm=k_up, k_down_per_nm=k_dn,
                P_normal_incidence=p_normal,
                torkance_definition="odd part [T(+V) - T(-V)] / 2V of the window torques, "
                                    "V = 0.01 V; b0 = total T_perp at V = 0")

    data = {}
    fit_rows = {k: [] for k in (
        "junction", "barrier_nm", "kappa_d", "G0", "P2_fit", "P2_fit_error", "P_fit_from_G",
        "P_fit_from_G_error", "A_par", "A_perp", "A_b0", "P_from_Tpar", "P_from_Tpar_error",
        "P_normal_incidence", "P2_slonczewski", "P_slonczewski_Tpar",
        "G2_over_G0", "G2_over_G0_error", "A2_over_A_par", "A2_over_A_par_error",
        "A2_over_A_perp", "A2_over_A_perp_error", "A2_over_A_b0", "A2_over_A_b0_error",
        "dev_G", "dev_Tpar",
        "dev_Tperp", "dev_b0", "max_rel_error", "max_rel_lattice_error", "finest_step_nm")}
    for name, target in KAPPA_D.items():
        d = round(max(2, round(target / kappa / THICKNESS_STEP)) * THICKNESS_STEP, 6)
        junction = mk.junction_with(base, {"layer[0].thickness": d,
                                           "layer[0].potential": ef + HEIGHT})
        table = mk.scan(junction, bias=[-BIAS, 0.0, BIAS], theta=list(theta), parts="both",
                        rtol=rtol, **ctx.scan_options(f"theta_{name}_d{d:g}"))
        _lattice.record(ctx, f"theta_{name}", table, ("current_density", "torque_inplane_window",
                                                      "torque_outofplane_window",
                                                      "torque_outofplane_total"))
        frame = table.to_pandas()
        g = _odd(frame, "current_density")
        tpar = _odd(frame, "torque_inplane_window")
        tperp = _odd(frame, "torque_outofplane_window")
        zero = frame[np.isclose(frame.bias_V, 0.0)].set_index("theta_deg").sort_index()
        b0 = zero["torque_outofplane_total"].to_numpy()
        errors = {"G": _odd_error(frame, "current_density_error"),
                  "Tpar": _odd_error(frame, "torque_inplane_window_error"),
                  "Tperp": _odd_error(frame, "torque_outofplane_window_error"),
                  "b0": zero["torque_outofplane_total_error"].to_numpy()}
        ((g0, g1), (eg0, eg1)), ((_, _, g2), (_, _, eg2)) = _fit_cos(theta, g, errors["G"])
        (a_par, ea_par), ((a1_par, a2_par), (ea1_par, ea2_par)) = _fit_sin(theta, tpar,
                                                                           errors["Tpar"])
        (a_perp, _), ((a1_perp, a2_perp), (ea1_perp, ea2_perp)) = _fit_sin(theta, tperp,
                                                                           errors["Tperp"])
        (a_b0, _), ((a1_b0, a2_b0), (ea1_b0, ea2_b0)) = _fit_sin(theta, b0, errors["b0"])
        # the ratios with their errors; a denominator zero within its error (a torque that
        # vanishes at this barrier) gives inf/NaN and a status instead of a huge number
        ratios = {
            "P2_fit": ratio(g1, eg1, g0, eg0, name="P^2", den_name="G0", den_sign=1),
            "P_from_Tpar": ratio(a_par, ea_par, g0, eg0, name="T_par/G0", den_name="G0",
                                 den_sign=1),
            "G2_over_G0": ratio(g2, eg2, g0, eg0, name="G2/G0", den_name="G0", den_sign=1),
            "A2_over_A_par": ratio(a2_par, ea2_par, a1_par, ea1_par, name="A2/A1 (T_par)",
                                   den_name="A1 of T_par"),
            "A2_over_A_perp": ratio(a2_perp, ea2_perp, a1_perp, ea1_perp,
                                    name="A2/A1 (T_perp)", den_name="A1 of T_perp"),
            "A2_over_A_b0": ratio(a2_b0, ea2_b0, a1_b0, ea1_b0, name="A2/A1 (b0)",
                                  den_name="A1 of b0"),
        }
        p2 = ratios["P2_fit"]
        p_from_g = (math.nan, math.nan)
        if p2.ok and p2.value:
            root = math.sqrt(abs(p2.value))
            p_from_g = (math.copysign(root, p2.value), p2.error / (2 * root))
        slon = slonczewski_per_area(ef, electrode, electrode, ef + HEIGHT, d)
        fits = {"G": g0 + g1 * np.cos(theta), "Tpar": a_par * np.sin(theta),
                "Tperp": a_perp * np.sin(theta), "b0": a_b0 * np.sin(theta)}
        values = {"G": g, "Tpar": tpar, "Tperp": tperp, "b0": b0}
        dev = {k: (values[k] - fits[k]) / np.max(np.abs(values[k])) for k in values}
        rel_err = max(float(np.max(errors[k]) / np.max(np.abs(values[k]))) for k in values)
        lattice = {"G": _odd_error(frame, "current_density_lattice_error"),
                   "Tpar": _odd_error(frame, "torque_inplane_window_lattice_error"),
                   "Tperp": _odd_error(frame, "torque_outofplane_window_lattice_error"),
                   "b0": zero["torque_outofplane_total_lattice_error"].to_numpy()}
        rel_lat = max(float(np.max(lattice[k]) / np.max(np.abs(values[k]))) for k in values)
        data[name] = dict(d=d, kd=kappa * d, values=values, fits=fits, dev=dev, slon=slon,
                          g0=g0, p2=p2.value, a_par=a_par, a_perp=a_perp, a_b0=a_b0)
        row = {"junction": name, "barrier_nm": d, "kappa_d": kappa * d, "G0": g0,
               "P2_fit": p2.value, "P2_fit_error": p2.error, "P_fit_from_G": p_from_g[0],
               "P_fit_from_G_error": p_from_g[1], "A_par": a_par, "A_perp": a_perp,
               "A_b0": a_b0, "P_from_Tpar": ratios["P_from_Tpar"].value,
               "P_from_Tpar_error": ratios["P_from_Tpar"].error,
               "P_normal_incidence": p_normal,
               "P2_slonczewski": (slon.conductance_parallel - slon.conductance_antiparallel)
                                 / (slon.conductance_parallel + slon.conductance_antiparallel),
               "P_slonczewski_Tpar": slon.inplane_torkance / slon.g0,
               **{k: v for key in ("G2_over_G0", "A2_over_A_par", "A2_over_A_perp",
                                   "A2_over_A_b0")
                  for k, v in ((key, ratios[key].value), (f"{key}_error", ratios[key].error))},
               "dev_G": float(np.max(np.abs(dev["G"]))),
               "dev_Tpar": float(np.max(np.abs(dev["Tpar"]))),
               "dev_Tperp": float(np.max(np.abs(dev["Tperp"]))),
               "dev_b0": float(np.max(np.abs(dev["b0"]))), "max_rel_error": rel_err,
               "max_rel_lattice_error": rel_lat,
               "finest_step_nm": float(frame["lattice_spacing_nm"].min())}
        for k, v in row.items():
            fit_rows[k].append(v)
        ctx.table(f"angular_{name}", {
            "theta_deg": theta_deg, "G": g, "G_fit": fits["G"],
            "G_slonczewski": slon.conductance(theta),
            "torkance_inplane": tpar, "torkance_inplane_fit": fits["Tpar"],
            "torkance_inplane_slonczewski": slon.inplane_torkance * np.sin(theta),
            "torkance_outofplane": tperp, "torkance_outofplane_fit": fits["Tperp"],
            "torkance_outofplane_slonczewski": slon.outofplane_window_torkance * np.sin(theta),
            "b0": b0, "b0_fit": fits["b0"], "G_error": errors["G"],
            "torkance_inplane_error": errors["Tpar"], "torkance_outofplane_error": errors["Tperp"],
            "b0_error": errors["b0"]},
            {"theta_deg": "deg", "G": "A/(V m^2) = S/m^2", "G_fit": "S/m^2",
             "G_slonczewski": "S/m^2",
             **{k: "(hbar/2e) A/(V m^2)" for k in ("torkance_inplane", "torkance_inplane_fit",
                                                   "torkance_inplane_slonczewski",
                                                   "torkance_outofplane",
                                                   "torkance_outofplane_fit",
                                                   "torkance_outofplane_slonczewski",
                                                   "torkance_inplane_error",
                                                   "torkance_outofplane_error")},
             "G_error": "S/m^2", "b0": "(hbar/2e) A/m^2 (total T_perp at V = 0)",
             "b0_fit": "(hbar/2e) A/m^2", "b0_error": "(hbar/2e) A/m^2"})
        ctx.note(f"{name} (d = {d:g} nm, kappa d = {kappa * d:.2f}): P^2 from G(theta) = "
                 f"{p2.text('.4f')} (P = {row['P_fit_from_G']:.3f}), T_par/G0 = "
                 f"{ratios['P_from_Tpar'].text('.3f')}, "
                 f"normal-incidence P = {p_normal:.3f} (P^2 = {p_normal**2:.4f}), Slonczewski "
                 f"k_par-integrated P^2 = {row['P2_slonczewski']:.4f}, tau_par/G0 = "
                 f"{row['P_slonczewski_Tpar']:.3f}; largest deviation from the forms "
                 f"(relative to max |value|): G {row['dev_G']:.2e}, T_par {row['dev_Tpar']:.2e}, "
                 f"T_perp {row['dev_Tperp']:.2e}, b0 {row['dev_b0']:.2e}; second harmonics "
                 f"G2/G0 = {ratios['G2_over_G0'].text('.2e')}, A2/A1 (T_par) = "
                 f"{ratios['A2_over_A_par'].text('.2e')}, (T_perp) = "
                 f"{ratios['A2_over_A_perp'].text('.2e')}, (b0) = "
                 f"{ratios['A2_over_A_b0'].text('.2e')} (errors: the data's error estimates "
                 "propagated through the fits)")
    ctx.table("angular_fits", fit_rows, {
        "barrier_nm": "nm", "kappa_d": "1", "G0": "S/m^2", "P2_fit": "1",
        "P_fit_from_G": "1 (sqrt of P2_fit, symmetric junction P_L = P_R)",
        "A_par": "(hbar/2e) A/(V m^2)", "A_perp": "(hbar/2e) A/(V m^2)",
        "A_b0": "(hbar/2e) A/m^2", "P_from_Tpar": "1 (A_par / G0)", "P_normal_incidence": "1",
        "P2_slonczewski": "1 ((G_P - G_AP)/(G_P + G_AP), k_par-integrated thick-barrier limit)",
        "P_slonczewski_Tpar": "1 (in-plane torkance / G0, same limit)",
        "G2_over_G0": "1", "A2_over_A_par": "1", "A2_over_A_perp": "1", "A2_over_A_b0": "1",
        **{f"{k}_error": "1 (data error estimates propagated through the fit, worst case)"
           for k in ("P2_fit", "P_fit_from_G", "P_from_Tpar", "G2_over_G0", "A2_over_A_par",
                     "A2_over_A_perp", "A2_over_A_b0")},
        "dev_G": "1 (max |data - fit| / max |data|)", "dev_Tpar": "1", "dev_Tperp": "1",
        "dev_b0": "1", "max_rel_error": "1 (error estimate, quadrature + discretisation, / "
                                        "max |value|)",
        "max_rel_lattice_error": "1 (discretisation part of the error / max |value|)",
        "finest_step_nm": "nm (finest lattice step of the continuum extrapolation)"})
    ctx.error("largest error estimate (quadrature + discretisation) relative to max |value| "
              "(odd parts and b0)", max(fit_rows["max_rel_error"]))
    ctx.error("largest lattice (discretisation) error relative to max |value| (odd parts and "
              "b0)", max(fit_rows["max_rel_lattice_error"]))
    _main_figure(ctx, theta_deg, data, p_normal, plt)
    _deviation_figure(ctx, theta_deg, data, plt)


def _main_figure(ctx, theta_deg, data, p_normal, plt):
    fine_deg = np.linspace(0, 180, 181)
    fine = np.radians(fine_deg)
    fig, axes = plt.subplots(4, len(data), figsize=(4.6 * len(data), 13),
                             constrained_layout=True, sharex=True)
    for col, (name, dd) in enumerate(data.items()):
        v, slon, g0 = dd["values"], dd["slon"], dd["g0"]
        gp, gap = slon.conductance_parallel, slon.conductance_antiparallel
        ax = axes[0, col]
        ax.plot(theta_deg, v["G"], "o", color="k", ms=4, label="Kwant")
        ax.plot(fine_deg, g0 * (1 + dd["p2"] * np.cos(fine)), "-", color="C0",
                label=rf"fit $G_0(1+P^2\cos\theta)$, $P^2$ = {dd['p2']:.3f}")
        ax.plot(fine_deg, slon.conductance(fine), "--", color="C1",
                label=rf"Slonczewski per area ($P^2_{{k_\parallel}}$ = "
                      rf"{(gp - gap) / (gp + gap):.3f})")
        ax.plot(fine_deg, g0 * (1 + p_normal**2 * np.cos(fine)), ":", color="C2", lw=1.8,
                label=rf"$G_0(1+P_n^2\cos\theta)$, normal incidence $P_n$ = {p_normal:.3f}")
        ax.set_ylabel(r"conductance $G = J/V$ (S/m$^2$)")
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo - 0.55 * (hi - lo), hi)  # room for the legend below the curves
        ax.set_title(f"{name}: d = {dd['d']:g} nm, κd = {dd['kd']:.2f}", fontsize=10)
        ax = axes[1, col]
        ax.plot(theta_deg, v["Tpar"], "o", color="k", ms=4, label="Kwant (window, odd in V)")
        ax.plot(fine_deg, dd["a_par"] * np.sin(fine), "-", color="C0",
                label=rf"fit $A\sin\theta$, $A/G_0$ = {dd['a_par'] / g0:.3f}")
        ax.plot(fine_deg, slon.inplane_torkance * np.sin(fine), "--", color="C1",
                label=rf"Slonczewski $\tau_\parallel\sin\theta$ ($\tau_\parallel/G_0$ = "
                      rf"{slon.inplane_torkance / slon.g0:.3f})")
        ax.plot(fine_deg, p_normal * g0 * np.sin(fine), ":", color="C2", lw=1.8,
                label=r"$P_n G_0\sin\theta$ (normal incidence)")
        ax.set_ylabel(r"$\tau_\parallel = dT_\parallel/dV$ ((ħ/2e) A/(V m$^2$))")
        top = max(np.max(v["Tpar"]), slon.inplane_torkance)
        ax.set_ylim(-0.05 * top, 1.7 * top)  # room for the legend above the curves
        ax = axes[2, col]
        ax.plot(theta_deg, v["Tperp"], "o", color="k", ms=4, label="Kwant (window, odd in V)")
        ax.plot(fine_deg, dd["a_perp"] * np.sin(fine), "-", color="C0",
                label=rf"fit $A\sin\theta$, $A/G_0$ = {dd['a_perp'] / g0:.3f}")
        ax.plot(fine_deg, slon.outofplane_window_torkance * np.sin(fine), "--", color="C1",
                label=r"Slonczewski window $\tau_\perp\sin\theta$")
        ax.set_ylabel(r"$\tau_\perp = dT_\perp^{\rm window}/dV$ ((ħ/2e) A/(V m$^2$))")
        ax = axes[3, col]
        ax.plot(theta_deg, v["b0"], "o", color="k", ms=4, label="Kwant (total, V = 0)")
        ax.plot(fine_deg, dd["a_b0"] * np.sin(fine), "-", color="C0", label=r"fit $A\sin\theta$")
        ax.set_ylabel(r"$b_0 = T_\perp^{\rm total}(V{=}0)$ ((ħ/2e) A/m$^2$)")
        ax.set_xlabel("angle θ between p and m (deg)")
        places = ("lower center", "upper center", "upper center",
                  "lower center" if dd["a_b0"] > 0 else "upper center")
        for row, place in enumerate(places):
            if row > 0:
                axes[row, col].axhline(0, color="0.85", lw=0.8)
            axes[row, col].legend(fontsize=7, loc=place)
            axes[row, col].ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    for ax in axes[-1]:
        ax.set_xticks(np.arange(0, 181, 30))
    fig.suptitle(f"Fe-like F/I/F, rectangular barrier {HEIGHT:g} eV above E_F, T = 0: "
                 f"conductance and torkances at V = ±{BIAS:g} V (window), interlayer exchange "
                 "torque b0 (total, V = 0)", fontsize=11)
    ctx.figure(fig, "angular")


def _deviation_figure(ctx, theta_deg, data, plt):
    fig, axes = plt.subplots(1, 4, figsize=(17, 4.3), constrained_layout=True)
    titles = {"G": r"$G - G_0(1+P^2\cos\theta)$", "Tpar": r"$\tau_\parallel - A\sin\theta$",
              "Tperp": r"$\tau_\perp - A\sin\theta$ (window)",
              "b0": r"$b_0 - A\sin\theta$ (total, V = 0)"}
    for ax, key in zip(axes, titles):
        for name, dd in data.items():
            worst = 100 * np.max(np.abs(dd["dev"][key]))
            ax.plot(theta_deg, 100 * dd["dev"][key], "o-", color=COLORS[name], ms=3,
                    label=f"{name}, κd = {dd['kd']:.2f} (max {worst:.2g} %)")
        ax.axhline(0, color="0.7", lw=0.8)
        ax.set_xlabel("angle θ between p and m (deg)")
        ax.set_xticks(np.arange(0, 181, 30))
        ax.set_title(titles[key], fontsize=10)
        ax.set_ylabel("deviation (% of max |Kwant|)")
        ax.legend(fontsize=7.5)
    fig.suptitle("Deviation from Slonczewski's angular forms (least-squares fits to the Kwant "
                 "data), per junction", fontsize=11)
    ctx.figure(fig, "angular_deviation")
