"""Spin accumulation in a diffusive free layer under a normal cap, and the 1/d law.

Question: how does the transverse spin accumulation injected by the tunnel barrier spread
through a free layer of thickness d = 2 nm and its normal-metal cap, and from which thickness
on is the torque the interfacial one, falling as 1/d (model paper, section 4, Eqs. 20–25 and
Fig. 4)?

Method (analytic only, :mod:`mtj_kwant.analytic.diffusion`): the closed-form profiles of
``spin_accumulation_profile`` for the three parameter sets of Fig. 4 of the paper
(d = 2 nm; λ_φ = 0.5 nm with cap spin-diffusion length λ_N = 1 nm, λ_φ = 1.5 nm with
λ_N = 1 nm and λ_N = 10 nm), with the lengths the paper does not give taken from
``FIGURE4_PARAMETERS`` (λ_J = 1 nm, λ_sf(free) = 5 nm, D_N/D_F = 1, purely in-plane injection
J₀ = 1).  The torque of Eq. (23) for the same sets as a function of d (``diffusion_torque``,
``mixing_coefficients`` α, β with d·T∥ = αJ∥ + βJ⊥) against its d → ∞ form (``thick_layer_limit``,
J₀L²/(L₀²d)), and the thickness d₅ above which it stays within 5 % of that 1/d law.  The
closed forms are checked against the independent ``solve_diffusion_bvp`` solution.

What to look for: the out-of-plane accumulation is created by precession (λ_J) from the
in-plane injection; a short λ_φ confines both components to the first nanometre, a long
λ_φ lets them reach the cap, where a short λ_N (good spin sink) pulls them down and a long
λ_N (poor sink) lets them pile up.  The torque follows 1/d once d exceeds a few |L|, i.e.
about 3 λ_φ; below, the spin current is not absorbed and the torque falls below 1/d.

Outputs: ``profiles.png`` (Fig. 4: accumulation and spin current versus x),
``thickness.png`` (torque versus d on log-log axes against 1/d, relative deviation, α and β),
CSV tables of every curve, ``provenance.json``.
"""

import numpy as np

from mtj_kwant.analytic import (
    cap_eta,
    diffusion_torque,
    mixing_coefficients,
    solve_diffusion_bvp,
    spin_accumulation_profile,
    thick_layer_limit,
)
from mtj_kwant.analytic.diffusion import FIGURE4_PARAMETERS, inverse_lengths

TITLE = "Spin accumulation profiles in free layer/cap (Fig. 4) and the 1/d thickness law"
STYLES = {"solid": "-", "dashed": "--", "dotted": ":"}
THRESHOLD = 0.05  # relative deviation from the 1/d law


def _label(case):
    return rf"$\lambda_\phi$ = {case['lambda_phi']:g} nm, $\lambda_N$ = {case['lambda_N']:g} nm"


def _plain(case):
    return f"lambda_phi = {case['lambda_phi']:g} nm, lambda_N = {case['lambda_N']:g} nm"


def run(ctx):
    p = FIGURE4_PARAMETERS
    lengths = dict(lambda_J=p["lambda_J"], lambda_sf=p["lambda_sf"])
    ctx.setting(d_nm=p["d"], lambda_J_nm=p["lambda_J"], lambda_sf_free_nm=p["lambda_sf"],
                diffusion_ratio_DN_over_DF=p["diffusion_ratio"], J0="1 + 0i (in-plane)",
                cases={name: dict(lambda_phi_nm=c["lambda_phi"], lambda_N_nm=c["lambda_N"])
                       for name, c in p["cases"].items()},
                source="FIGURE4_PARAMETERS of mtj_kwant.analytic.diffusion (paper: d, lambda_phi, "
                       "lambda_N; chosen there: lambda_J, lambda_sf, D_N/D_F)",
                lattice="none: closed-form continuum solutions of the diffusion equations "
                        "(no Kwant system, no discretisation)")
    _profiles(ctx, p, lengths)
    _thickness(ctx, p, lengths)


def _profiles(ctx, p, lengths):
    import matplotlib.pyplot as plt

    x = np.linspace(0.0, 5.0, ctx.pick(101, 501))
    ctx.setting(profile_x_nm=[0.0, 5.0, len(x)])
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), constrained_layout=True)
    columns = {"x_nm": x}
    worst = 0.0
    for name, case in p["cases"].items():
        prof = spin_accumulation_profile(x, p["J0"], p["d"], lengths["lambda_J"],
                                         case["lambda_phi"], lengths["lambda_sf"],
                                         case["lambda_N"], p["diffusion_ratio"])
        columns[f"{name}_s_outofplane"] = prof.out_of_plane
        columns[f"{name}_s_inplane"] = prof.in_plane
        columns[f"{name}_J_outofplane"] = prof.spin_current.imag
        columns[f"{name}_J_inplane"] = prof.spin_current.real
        ls = STYLES[name]
        axes[0].plot(x, prof.out_of_plane, ls, color="k", lw=1.6)
        axes[0].plot(x, prof.in_plane, ls, color="C3", lw=1.6)
        axes[1].plot(x, prof.spin_current.imag, ls, color="k", lw=1.6)
        axes[1].plot(x, prof.spin_current.real, ls, color="C3", lw=1.6)
        # independent check: scipy solve_bvp of the same boundary-value problem
        bvp = solve_diffusion_bvp(p["J0"], p["d"], lengths["lambda_J"], case["lambda_phi"],
                                  lengths["lambda_sf"], case["lambda_N"], p["diffusion_ratio"])
        closed = spin_accumulation_profile(bvp.profile.x, p["J0"], p["d"], lengths["lambda_J"],
                                           case["lambda_phi"], lengths["lambda_sf"],
                                           case["lambda_N"], p["diffusion_ratio"])
        diff = np.max(np.abs(bvp.profile.accumulation - closed.accumulation))
        worst = max(worst, diff / np.max(np.abs(closed.accumulation)))
        at_cap = np.interp(p["d"], x, prof.spin_current.real), np.interp(p["d"], x,
                                                                        prof.spin_current.imag)
        ctx.note(f"{name} ({_plain(case)}): the spin current reaching the cap "
                 f"at x = d is J(d)/J0 = {at_cap[0]:.3f} (in-plane) {at_cap[1]:+.3f} i "
                 f"(out-of-plane); accumulation at the cap interface D_F s(d) = "
                 f"{np.interp(p['d'], x, prof.in_plane):.3f} + "
                 f"{np.interp(p['d'], x, prof.out_of_plane):.3f} i (J0 nm)")
    ctx.error("profiles: max |closed form - solve_bvp| / max |s|", worst)
    ctx.table("profiles", columns, {
        "x_nm": "nm", **{k: "J0 nm (D_F s, J0 = 1)" for k in columns if "_s_" in k},
        **{k: "J0 (spin current, J0 = 1)" for k in columns if "_J_" in k}})

    for ax in axes:
        ax.axvspan(p["d"], x[-1], color="0.93", zorder=0)
        ax.axvline(p["d"], color="0.5", lw=0.8)
        ax.axhline(0, color="0.8", lw=0.8)
        ax.set_xlim(0, x[-1])
        ax.set_xlabel("position x (nm; barrier interface at 0, free layer | cap at 2 nm)")
        ax.text(0.5 * p["d"], 0.97, "free layer", transform=ax.get_xaxis_transform(),
                ha="center", va="top", fontsize=8)
        ax.text(0.5 * (p["d"] + x[-1]), 0.97, "normal cap", transform=ax.get_xaxis_transform(),
                ha="center", va="top", fontsize=8)
    axes[0].set_ylabel(r"spin accumulation $D_F\,s(x)$ (units of $J_0\cdot$nm)")
    axes[0].set_title("transverse spin accumulation (model paper, Fig. 4)")
    axes[1].set_ylabel(r"transverse spin current $J(x)$ (units of $J_0$)")
    axes[1].set_title("transverse spin current (what is not absorbed reaches the cap)")
    # legend: colours = components, line styles = parameter sets
    handles = [plt.Line2D([], [], color="k", lw=1.6, label="out-of-plane (∥ m×p)"),
               plt.Line2D([], [], color="C3", lw=1.6, label="in-plane (∥ m×(p×m))")]
    handles += [plt.Line2D([], [], color="0.3", ls=STYLES[n], lw=1.6, label=_label(c))
                for n, c in p["cases"].items()]
    # under the "normal cap" label, above the curves of the cap
    axes[0].legend(handles=handles, fontsize=8, loc="upper right", bbox_to_anchor=(1.0, 0.92))
    fig.suptitle(rf"Diffusion model, d = {p['d']:g} nm, $\lambda_J$ = {p['lambda_J']:g} nm, "
                 rf"$\lambda_{{sf}}$(free) = {p['lambda_sf']:g} nm, $D_N/D_F$ = "
                 rf"{p['diffusion_ratio']:g}, in-plane injection $J_0$ = 1", fontsize=10)
    ctx.figure(fig, "profiles")


def _thickness(ctx, p, lengths):
    import matplotlib.pyplot as plt

    d = np.logspace(-1, np.log10(30.0), ctx.pick(40, 400))
    ctx.setting(thickness_d_nm=[float(d[0]), float(d[-1]), len(d)], threshold=THRESHOLD)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6), constrained_layout=True)
    columns = {"d_nm": d}
    summary = {"case": [], "lambda_phi_nm": [], "lambda_N_nm": [], "decay_length_nm": [],
               "d5_nm": [], "alpha_inf": [], "beta_inf": [], "alpha_at_2nm": [],
               "beta_at_2nm": [], "deviation_at_2nm": []}
    worst = 0.0
    for (name, case), color in zip(p["cases"].items(), ("C0", "C1", "C2")):
        lp, ln = case["lambda_phi"], case["lambda_N"]
        eta = cap_eta(lengths["lambda_J"], lp, lengths["lambda_sf"], ln, p["diffusion_ratio"])
        torque = diffusion_torque(p["J0"], d, lengths["lambda_J"], lp, lengths["lambda_sf"], eta)
        limit = thick_layer_limit(p["J0"], d, lengths["lambda_J"], lp, lengths["lambda_sf"])
        alpha, beta = mixing_coefficients(d, lengths["lambda_J"], lp, lengths["lambda_sf"], eta)
        deviation = np.abs(torque - limit) / np.abs(limit)
        above = deviation > THRESHOLD
        last = np.nonzero(above)[0][-1] if above.any() else -1
        d5 = float(d[last + 1]) if last + 1 < d.size else float("nan")
        # the deviation falls as exp(-d Re(1/L)) (thick_layer_limit docstring)
        decay = 1.0 / float(np.real(inverse_lengths(lengths["lambda_J"], lp,
                                                     lengths["lambda_sf"])[2]))
        check = solve_diffusion_bvp(p["J0"], 2.0, lengths["lambda_J"], lp, lengths["lambda_sf"],
                                    ln, p["diffusion_ratio"]).torque
        ref = complex(diffusion_torque(p["J0"], 2.0, lengths["lambda_J"], lp,
                                       lengths["lambda_sf"], eta))
        worst = max(worst, abs(check - ref) / abs(ref))
        a2, b2 = mixing_coefficients(2.0, lengths["lambda_J"], lp, lengths["lambda_sf"], eta)
        lim2 = thick_layer_limit(p["J0"], 2.0, lengths["lambda_J"], lp, lengths["lambda_sf"])
        summary["case"].append(name)
        summary["lambda_phi_nm"].append(lp)
        summary["lambda_N_nm"].append(ln)
        summary["decay_length_nm"].append(decay)
        summary["d5_nm"].append(d5)
        summary["alpha_inf"].append(float(alpha[-1]))
        summary["beta_inf"].append(float(beta[-1]))
        summary["alpha_at_2nm"].append(float(a2))
        summary["beta_at_2nm"].append(float(b2))
        summary["deviation_at_2nm"].append(float(abs(ref - lim2) / abs(lim2)))
        columns[f"{name}_T_inplane_per_J0"] = torque.real
        columns[f"{name}_T_outofplane_per_J0"] = torque.imag
        columns[f"{name}_limit_inplane_per_J0"] = limit.real
        columns[f"{name}_limit_outofplane_per_J0"] = limit.imag
        columns[f"{name}_deviation"] = deviation
        columns[f"{name}_alpha"] = alpha
        columns[f"{name}_beta"] = beta
        ls = STYLES[name]
        label = _label(case)
        axes[0].loglog(d, np.abs(torque.real), ls, color=color, lw=1.8, label=label)
        axes[0].loglog(d, np.abs(torque.imag), ls, color=color, lw=0.9)  # same colour, thin
        axes[0].loglog(d, np.abs(limit.imag), "-.", color="0.35", lw=0.7,
                       label=r"1/d law ($d\to\infty$ of Eq. 23)" if name == "solid" else None)
        # d5 in the legend: labels beside the markers would cross the other curves
        axes[1].loglog(d, deviation, ls, color=color, lw=1.6, label=f"{label}: d₅ = {d5:.2f} nm")
        axes[1].plot([d5], [THRESHOLD], "o", color=color, ms=6)
        axes[2].semilogx(d, alpha, ls, color=color, lw=1.8, label=rf"$\alpha$, {label}")
        axes[2].semilogx(d, beta, ls, color=color, lw=0.9, label=rf"$\beta$, {label}")
        ctx.note(f"{name} ({_plain(case)}): the torque is within 5 % of its 1/d law "
                 f"for d >= {d5:.2f} nm ({d5 / lp:.1f} lambda_phi); at d = 2 nm it is "
                 f"{100 * summary['deviation_at_2nm'][-1]:.1f} % off, alpha = {a2:.3f}, "
                 f"beta = {b2:.3f} (thick-layer limits alpha = {alpha[-1]:.4f}, "
                 f"beta = {beta[-1]:.4f}); the deviation decays as exp(-d/{decay:.2f} nm), 1/Re(1/L)")
    ctx.error("thickness: max |Eq. 23 - solve_bvp torque| / |torque| at d = 2 nm", worst)
    # the pure interfacial law J0/d (no spin flip) for reference
    axes[0].loglog(d, np.abs(p["J0"]) / d, color="0.55", lw=3, alpha=0.45, zorder=0,
                   label=r"interfacial limit $J_0/d$ (1/d law of $T_\parallel$ within "
                   f"{100 * (1 - min(summary['alpha_inf'])):.1f} %)")
    ctx.table("thickness", columns, {
        "d_nm": "nm", **{k: "1/nm (layer-averaged torque per J0)" for k in columns
                         if "_T_" in k or "_limit_" in k},
        **{k: "1 (relative deviation |T - T_1/d| / |T_1/d|)" for k in columns
           if k.endswith("_deviation")},
        **{k: "1 (d T_par = alpha J_par + beta J_perp)" for k in columns
           if k.endswith(("_alpha", "_beta"))}})
    ctx.table("thickness_summary", summary, {
        "lambda_phi_nm": "nm", "lambda_N_nm": "nm", "decay_length_nm": "nm (1/Re(1/L), decay "
        "length of the deviation)", "d5_nm": "nm (deviation from 1/d below 5 % for d >= d5)",
        "alpha_inf": "1", "beta_inf": "1", "alpha_at_2nm": "1", "beta_at_2nm": "1",
        "deviation_at_2nm": "1"})

    axes[0].set_xlabel("free-layer thickness d (nm)")
    axes[0].set_ylabel(r"layer-averaged torque $|T|/J_0$ (nm$^{-1}$)")
    axes[0].set_title(r"torque vs thickness (thick lines $T_\parallel$, thin lines $T_\perp$)")
    axes[0].set_ylim(1e-6, 20)  # room for the legend below the curves
    axes[0].legend(fontsize=6.5, loc="lower left")
    axes[1].axhline(THRESHOLD, color="k", lw=0.8, ls="--", label="5 %")
    axes[1].set_xlabel("free-layer thickness d (nm)")
    axes[1].set_ylabel(r"$|T - T_{1/d}|\,/\,|T_{1/d}|$ (dimensionless)")
    axes[1].set_title(r"relative deviation from $T_{1/d} = J_0 L^2/(L_0^2 d)$ (● d₅: 5 %)")
    axes[1].set_ylim(1e-4, 2)
    axes[1].legend(fontsize=7, loc="lower left")
    axes[2].axhline(0, color="0.8", lw=0.8)
    axes[2].axvline(FIGURE4_PARAMETERS["d"], color="0.6", lw=0.8, ls=":")
    axes[2].set_xlabel("free-layer thickness d (nm)")
    axes[2].set_ylabel(r"mixing coefficients $\alpha$, $\beta$ (dimensionless)")
    axes[2].set_title(r"$d\,T_\parallel = \alpha J_\parallel + \beta J_\perp$, "
                      r"$d\,T_\perp = -\beta J_\parallel + \alpha J_\perp$")
    axes[2].legend(fontsize=6.5, loc="center right")
    fig.suptitle(rf"Eq. (23): torque on a diffusive free layer under a normal cap "
                 rf"($\lambda_J$ = {p['lambda_J']:g} nm, $\lambda_{{sf}}$ = {p['lambda_sf']:g} nm, "
                 rf"$D_N/D_F$ = {p['diffusion_ratio']:g}, in-plane injection $J_0$ = 1)",
                 fontsize=10)
    ctx.figure(fig, "thickness")
