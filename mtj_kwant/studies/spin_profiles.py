"""Transverse spin density in the free layer: damped precession of the injected spin.

Question: how does the spin injected across the barrier, transverse to the free layer's
magnetization m, evolve inside the free layer for a weak ferromagnet, a strong
ferromagnet and a half-metal (model paper, section 3.2 and Fig. 2)?  In a ferromagnet
both spin channels propagate and the transverse spin precesses about m with the
spatial period 2π/(k↑−k↓); averaging over the transverse momenta k∥ dephases the
precession, so its envelope decays slowly (damped oscillation).  In a half-metal the
minority wave is evanescent, so the transverse spin decays exponentially within
1/q (q the minority decay constant at E_F): the torque is interfacial.

Method: the F/I/F/N junction of ``mtj_kwant/systems/fifn_2nm.toml`` (Fe-like pinned electrode,
1 nm MgO-like barrier, Cu-like cap; a continuum junction, no ``lattice_spacing``) with three
free layers:
weak ferromagnet (band bottom U = 0 eV, Δ = 1.5 eV), strong ferromagnet (the file's
Fe-like layer, Stearns' k↑ = 1.09, k↓ = 0.42 1/Å) and half-metal (U = 1.5 eV,
Δ = 3 eV: minority band bottom 0.38 eV above E_F, majority band bottom equal to the
cap's).  ``mk.profile`` gives the window (transport) spin density per site at
V = 0.1 V, θ = 90° (m = x̂, p = ẑ), T = 0, for a 5 nm free layer and for a 20 nm one
(long enough to see the envelope decay).  A profile is site-resolved, so it is the site
values of one lattice, not a continuum extrapolation.  ``mk.profile`` would pick half the base
step of the continuum extrapolation (0.025 nm here); on it the torque that a 5–20 nm
Fe-like free layer's profile sums to is 10–40 % off the continuum (the quantum-well phases
k·2d accumulate the band error), so the full run fixes the lattice at 5 pm
(``PROFILE_SPACING``); the quick run keeps mk.profile's choice.  Each profile's
``lattice_spacing_nm`` and the discretisation error of its torque
(``errors["torque_lattice"]``, from a second lattice at 2a) are recorded in the
provenance.  The components along e∥ = m×(p×m)/|…| and
e⊥ = m×p/|…| (DESIGN.md §1) come from ``mk.torque_components``.  With
s = s∥ + i s⊥: the envelope is |s| and the precession phase is arg s.  Decay length ℓ:
least-squares fit of ln|s| = a − x/ℓ from the envelope maximum to 1 nm before the cap
(for the half-metal, to where |s| has fallen by 10⁹, above the numerical floor); the
same range gives a power-law exponent (|s| ∝ x^−p) and the precession wavevector
(linear fit of the unwrapped phase; period 2π/|slope|).  A zero-padded FFT of s(x)
(Hann window) shows the wavevectors present: k↑−k↓ (precession) and k↑+k↓
(interference of the injected and reflected waves).  Expected values at normal
incidence come from ``mtj_kwant.analytic.slonczewski.spin_wavevectors`` and
``barrier_decay_constant`` (minority decay constant of the half-metal).

What to look for: slow precession with a long, weakly decaying envelope for the weak
ferromagnet; fast precession with an envelope that decays over several nanometres for
the strong one; no precession but an exponential decay over about 1/q ≈ 0.3 nm for
the half-metal.

Outputs: ``transverse_spin_profiles.png`` (s∥, s⊥ versus depth, 5 nm and 20 nm layers),
``precession_and_decay.png`` (envelopes with fits, precession phase, spectra),
CSV tables of every profile, of the spectra and of the fitted lengths,
``provenance.json``.
"""

import math
import sys

import numpy as np

import mtj_kwant as mk
from mtj_kwant.analytic.fits import fit_status
from mtj_kwant.analytic.slonczewski import barrier_decay_constant, spin_wavevectors
from mtj_kwant.ratios import ratio

from ._free_layers import FREE_LAYERS


TITLE = "Transverse spin density in the free layer: precession, dephasing and decay"

BIAS = 0.1  # V
THETA, PHI = math.pi / 2, 0.0
#: Free-layer direction m = (sinθ cosφ, sinθ sinφ, cosθ) (DESIGN.md §1).
M = mk.magnetization_direction(THETA, PHI)
#: The free layers compared (U, Δ in eV; see _free_layers).
CASES = dict(FREE_LAYERS)
DENSITY_UNIT = "<sigma>/nm^3"
#: The fit of the envelope stops this far before the cap (nm) ...
CAP_MARGIN = 1.0
#: ... or where the envelope has fallen by this factor (numerical floor).
FLOOR = 1e-9
#: Lattice step (nm) of the full run's profiles.  A profile is site-resolved, so it needs one
#: lattice (its arrays cannot be extrapolated to a -> 0 like integrated observables).
#: mk.profile's own choice for these continuum junctions, 0.025 nm, puts the torque of a
#: 5-20 nm Fe-like free layer 10-40 % off the continuum (measured: 8 nm layer, T_perp 2.7x
#: off at 0.025 nm, 3 % at 0.00625 nm), because the quantum-well phases k 2d accumulate the
#: (ka)^2/24 band error; at 5 pm the estimated error of that torque is ~0.2 %.
PROFILE_SPACING = 0.005


def _profile(ctx, junction, label, rtol, spacing):
    """mk.profile on the lattice ``spacing`` (None: mk.profile's own choice), cached in the
    study's points folder so that a rerun resumes."""
    if spacing is not None:
        junction = mk.junction_with(junction, {"lattice_spacing": spacing})
    path = ctx.store(label).with_suffix(".json")
    free = junction.layers[1]
    if path.exists():
        old = mk.load_result(path)
        layer = old.junction.get("layer", [{}, {}])[1]
        if (old.bias_V == BIAS and abs(old.theta_deg - math.degrees(THETA)) < 1e-9
                and layer.get("thickness") == free.thickness
                and layer.get("potential") == free.potential
                and layer.get("exchange") == free.exchange
                and getattr(old, "lattice_spacing_nm", None) is not None
                and (spacing is None or abs(old.lattice_spacing_nm - spacing) < 1e-12)):
            if ctx.progress:
                print(f"[spin_profiles] {label}: reused {path}", file=sys.stderr)
            return old
    if ctx.progress:
        print(f"[spin_profiles] {label}: computing ...", file=sys.stderr, flush=True)
    result = mk.profile(junction, BIAS, theta=THETA, phi=PHI, parts="window", rtol=rtol,
                        progress=ctx.progress)
    result.save(path)
    return result


def _transverse(result, junction, barrier):
    """Depth below the barrier (nm), s∥, s⊥, s·m and the free-layer mask of a profile."""
    density = np.asarray(result.spin_density)
    s_par, s_perp = mk.torque_components(density, M, junction.pinned_direction)
    return (np.asarray(result.x_nm) - barrier, s_par, s_perp, density @ M,
            np.asarray(result.free_sites, bool))


def _record_lattice(ctx, label, result):
    """The profile's lattice and the discretisation error of its torque, into the provenance;
    returns the profile's lattice_note."""
    torque = np.asarray(result.torque)
    lattice = np.asarray(result.errors.get("torque_lattice", np.zeros(3)), float)
    scale = max(float(np.max(np.abs(torque))), 1e-300)
    ctx.error(label, dict(lattice_spacing_nm=result.lattice_spacing_nm,
                          torque_lattice_error_relative=float(np.max(lattice)) / scale,
                          torque_error_relative=float(np.max(np.abs(result.errors["torque"])))
                          / scale))
    return result.lattice_note


def _analyse(x, s, d):
    """Decay length, power law and precession wavevector of s = s∥ + i s⊥ in the free layer.

    The decay length ℓ = 1/rate and the period 2π/|q| go through
    :func:`mtj_kwant.ratios.ratio` with the fits' standard uncertainties: a rate or q zero
    within its uncertainty gives inf with a lower bound (no decay or precession resolved),
    and ``decay_status`` / ``precession_status`` flag fits that mean nothing (too few points,
    a range shorter than one precession period, an envelope that grows: a negative ℓ).
    """
    env = np.abs(s)
    usable = x <= d - CAP_MARGIN
    i0 = int(np.argmax(np.where(usable, env, -1)))
    sel = usable & (x >= x[i0]) & (env > FLOOR * env[i0])
    xs, es = x[sel], env[sel]
    out = dict(x_start=float(xs[0]), x_end=float(xs[-1]), envelope_max=float(env[i0]),
               x_envelope_max=float(x[i0]), n_points=int(xs.size))
    nan = math.nan
    if xs.size < 3:  # np.polyfit(cov=True) needs dof > 0
        why = fit_status(int(xs.size), 2)
        return dict(out, decay_length=nan, decay_length_error=nan, decay_length_bound=nan,
                    decay_rate=nan, decay_rate_sigma=nan, log_amplitude=nan,
                    power_exponent=nan, q_precession=nan, q_precession_sigma=nan,
                    period_precession=nan, period_precession_error=nan,
                    decay_status=why, precession_status=why)
    (slope, icpt), cov = np.polyfit(xs, np.log(es), 1, cov=True)
    pos = xs > 0  # the power law |s| ∝ x^-p needs x > 0
    p_slope = np.polyfit(np.log(xs[pos]), np.log(es[pos]), 1)[0] if pos.sum() > 2 else nan
    phase = np.unwrap(np.angle(s[sel]))
    (q_prec, _), qcov = np.polyfit(xs, phase, 1, cov=True)
    rate, rate_sigma = -float(slope), float(math.sqrt(cov[0, 0]))
    q_sigma = float(math.sqrt(qcov[0, 0]))
    period = ratio(2 * math.pi, 0.0, abs(q_prec), q_sigma, name="the precession period",
                   num_name="2 pi", den_name="|q|", den_sign=1)
    length = ratio(1.0, 0.0, rate, rate_sigma, name="the decay length", num_name="1",
                   den_name="the decay rate", den_sign=1)
    span = float(xs[-1] - xs[0])
    unphysical = None
    if period.ok and span < period.value:
        unphysical = (f"the fitted range ({span:.2f} nm) is shorter than one precession "
                      f"period ({period.value:.2f} nm)")
    elif rate < 0 and rate + rate_sigma < 0:
        unphysical = (f"the envelope grows over the fitted range (decay rate {rate:.3g} +- "
                      f"{rate_sigma:.2g} /nm < 0, i.e. a negative decay length "
                      f"{1 / rate:.3g} nm)")
    decay_status = fit_status(int(xs.size), 2, [rate_sigma], unphysical)
    if decay_status == "ok" and not length.ok:
        decay_status = (f"no decay resolved: the decay rate {rate:.3g} +- {rate_sigma:.2g} /nm "
                        f"is zero within its uncertainty, decay length >= {length.bound:.3g} nm")
    precession_status = fit_status(int(xs.size), 2, [q_sigma])
    if precession_status == "ok" and not period.ok:
        precession_status = (f"no precession resolved: q = {q_prec:.3g} +- {q_sigma:.2g} /nm, "
                             f"period >= {period.bound:.3g} nm")
    meaningful = decay_status == "ok"
    return dict(out, decay_length=length.value if meaningful else nan,
                decay_length_error=length.error if meaningful else nan,
                decay_length_bound=(length.bound if decay_status.startswith("no decay")
                                    else nan),
                decay_rate=rate, decay_rate_sigma=rate_sigma, log_amplitude=float(icpt),
                power_exponent=-float(p_slope) if meaningful else nan,
                q_precession=float(q_prec), q_precession_sigma=q_sigma,
                period_precession=period.value, period_precession_error=period.error,
                decay_status=decay_status, precession_status=precession_status)


def _length_text(f):
    """Legend text: "ℓ = 0.33 nm", "ℓ ≥ 40 nm (no decay resolved)" or "not meaningful"."""
    if f["decay_status"] == "ok":
        return f"ℓ = {f['decay_length']:.2f} nm"
    if f["decay_status"].startswith("no decay"):
        return f"ℓ ≥ {f['decay_length_bound']:.3g} nm (no decay resolved)"
    return "ℓ: not meaningful (see notes)"


def _spectrum(x, s, pad=16384):
    step = x[1] - x[0]
    spec = np.fft.fftshift(np.fft.fft(s * np.hanning(len(s)), pad))
    q = np.fft.fftshift(np.fft.fftfreq(pad, step)) * 2 * math.pi
    power = np.abs(spec) ** 2
    return q, power / power.max()


def run(ctx):
    import matplotlib.pyplot as plt

    base = ctx.junction("fifn_2nm")
    d_short, d_long = ctx.pick((3.0, 8.0), (5.0, 20.0))
    rtol = ctx.pick(1e-2, 1e-3)
    spacing = ctx.pick(None, PROFILE_SPACING)
    ef = base.fermi_energy
    barrier = base.layers[0].thickness
    params = {n: (base.layers[1].potential if c["potential"] is None else c["potential"],
                  base.layers[1].exchange if c["exchange"] is None else c["exchange"])
              for n, c in CASES.items()}
    ctx.setting(bias_V=BIAS, theta_deg=90.0, phi_deg=0.0, temperature_K=0.0, parts="window",
                rtol=rtol, thicknesses_nm=[d_short, d_long],
                lattice="continuum junctions (no lattice_spacing); a profile is the site "
                        "values of one lattice: "
                        + (f"{spacing:g} nm (PROFILE_SPACING; mk.profile's own choice, 0.025 "
                           "nm, puts the torque of 5-20 nm layers 10-40 % off the continuum)"
                           if spacing is not None else "mk.profile's own choice (half the "
                           "base step of the continuum extrapolation)")
                        + "; per profile in the errors (lattice_<case>_<d>nm): the step and "
                          "the estimated discretisation error of the torque",
                profile_lattice_spacing_nm=spacing,
                barrier=dict(thickness_nm=barrier, potential_eV=base.layers[0].potential),
                pinned=dict(potential_eV=base.left.potential, exchange_eV=base.left.exchange),
                cap=dict(potential_eV=base.right.potential, exchange_eV=base.right.exchange),
                free_layers={n: dict(label=CASES[n]["label"], potential_eV=params[n][0],
                                     exchange_eV=params[n][1]) for n in CASES},
                axes="e_par = m x (p x m)/|.|, e_perp = m x p/|.| with m = x, p = z",
                x_origin="barrier / free-layer interface",
                decay_fit=f"ln|s| linear in x from the envelope maximum to {CAP_MARGIN:g} nm "
                          f"before the cap or to |s| = {FLOOR:g} max",
                precession_fit="linear fit of the unwrapped phase arg(s_par + i s_perp) "
                               "over the same range")

    profiles, waves, summary, lattice_notes = {}, {}, [], set()
    for name in CASES:
        u, delta = params[name]
        k_up, k_down = (float(k) for k in spin_wavevectors(ef, u, delta))
        q_min = float(barrier_decay_constant(ef, u + delta / 2)) if k_down == 0 else math.nan
        waves[name] = dict(k_up=k_up, k_down=k_down, q_minority=q_min)
        for d in (d_short, d_long):
            junction = mk.junction_with(base, {"layer[1].potential": u,
                                               "layer[1].exchange": delta,
                                               "layer[1].thickness": d})
            result = _profile(ctx, junction, f"profile_{name}_{d:g}nm_rtol{rtol:g}", rtol,
                              spacing)
            if not result.converged:
                ctx.note(f"{name}, d = {d:g} nm: the profile integral did not converge")
            lattice_notes.add(_record_lattice(ctx, f"lattice_{name}_{d:g}nm", result))
            x, s_par, s_perp, s_m, free = _transverse(result, junction, barrier)
            profiles[name, d] = (x, s_par, s_perp, s_m, free, result)
            t_par, t_perp = mk.torque_components(np.asarray(result.torque_density), M,
                                                 junction.pinned_direction)
            ctx.table(f"profile_{name}_{d:g}nm", {
                "x_nm": x, "free_layer": free.astype(int), "s_inplane": s_par,
                "s_outofplane": s_perp, "s_along_m": s_m, "s_transverse_abs": np.hypot(s_par,
                                                                                    s_perp),
                "torque_density_inplane": t_par, "torque_density_outofplane": t_perp,
            }, units={"x_nm": "nm from the barrier/free-layer interface", "free_layer": "1",
                      "s_inplane": DENSITY_UNIT, "s_outofplane": DENSITY_UNIT,
                      "s_along_m": DENSITY_UNIT, "s_transverse_abs": DENSITY_UNIT,
                      "torque_density_inplane": "(hbar/2e) A/m^2 per site",
                      "torque_density_outofplane": "(hbar/2e) A/m^2 per site"})
        x, s_par, s_perp, _, free, result = profiles[name, d_long]
        fit = _analyse(x[free], (s_par + 1j * s_perp)[free], d_long)
        fit.update(case=name, thickness_nm=d_long, k_up=k_up, k_down=k_down)
        fit["period_expected"] = (2 * math.pi / (k_up - k_down))
        fit["period_expected_label"] = "2pi/(k_up-k_down)" if k_down > 0 else "2pi/k_up"
        fit["decay_length_expected"] = 1 / q_min if k_down == 0 else math.nan
        summary.append(fit)

    for text in sorted(lattice_notes):
        ctx.note(f"lattice (mk.profile): {text}")

    # -- accuracy: the profiles' own error estimates, and the thin ones again at rtol/10 ----------
    if not ctx.quick:
        for name in CASES:
            u, delta = params[name]
            junction = mk.junction_with(base, {"layer[1].potential": u,
                                               "layer[1].exchange": delta,
                                               "layer[1].thickness": d_short})
            tight = _profile(ctx, junction, f"profile_{name}_{d_short:g}nm_rtol{rtol / 10:g}",
                             rtol / 10, spacing)
            x, s_par, s_perp, _, free, result = profiles[name, d_short]
            _, t_par, t_perp, _, _ = _transverse(tight, junction, barrier)
            scale = np.hypot(t_par, t_perp)[free].max()
            diff = np.hypot(s_par - t_par, s_perp - t_perp)[free].max()
            ctx.error(f"transverse_spin_density_{name}_{d_short:g}nm_relative", float(diff / scale))
            err = np.abs(np.asarray(result.error_arrays["spin_density"]))
            e_par, e_perp = (np.abs(c) for c in mk.torque_components(err, M,
                                                                      junction.pinned_direction))
            ctx.error(f"transverse_spin_density_{name}_{d_short:g}nm_estimate_relative",
                      float(np.hypot(e_par, e_perp)[free].max() / scale))
        ctx.note("spin-density errors: each profile array is integrated to rtol of its largest "
                 "element, here the window density along m of the free layer's quasi-bound "
                 "majority states (~0.5 <sigma>/nm^3, against ~1e-7 for the transverse density); "
                 "the transverse components' own error estimates and the difference from a rerun "
                 "at rtol/10 are recorded relative to the transverse maximum in the errors.")

    keys = ["case", "thickness_nm", "k_up", "k_down", "x_start", "x_end", "n_points",
            "decay_length", "decay_length_error", "decay_length_bound", "decay_rate",
            "decay_rate_sigma", "decay_length_expected", "power_exponent", "decay_status",
            "q_precession", "q_precession_sigma", "period_precession", "period_precession_error",
            "period_expected", "period_expected_label", "precession_status", "envelope_max",
            "x_envelope_max"]
    ctx.table("decay_and_precession", {k: [row[k] for row in summary] for k in keys},
              units={"thickness_nm": "nm", "k_up": "1/nm", "k_down": "1/nm", "x_start": "nm",
                     "x_end": "nm", "n_points": "1",
                     "decay_length": "nm (NaN when decay_status is not ok)",
                     "decay_length_error": "nm", "decay_length_bound": "nm (lower bound when "
                     "the decay rate is zero within its uncertainty)", "decay_rate": "1/nm",
                     "decay_status": "ok, 'no decay resolved: ...' or 'not meaningful: ...'",
                     "precession_status": "ok, 'no precession resolved: ...' or 'not "
                                          "meaningful: ...'",
                     "period_precession_error": "nm",
                     "decay_rate_sigma": "1/nm", "decay_length_expected": "nm",
                     "power_exponent": "1", "q_precession": "1/nm",
                     "q_precession_sigma": "1/nm", "period_precession": "nm",
                     "period_expected": "nm", "envelope_max": DENSITY_UNIT,
                     "x_envelope_max": "nm"})
    for row in summary:
        expected = (f", expected 1/q = {row['decay_length_expected']:.3f} nm"
                    if not math.isnan(row["decay_length_expected"]) else "")
        where = f"over {row['x_start']:.2f}-{row['x_end']:.2f} nm ({row['n_points']} points)"
        if row["decay_status"] == "ok":
            decay = (f"envelope decay length {row['decay_length']:.3f} +- "
                     f"{row['decay_length_error']:.2g} nm {where}{expected}; power-law exponent "
                     f"{row['power_exponent']:.2f}")
        else:
            decay = f"envelope decay {where}: {row['decay_status']}{expected}"
        if row["precession_status"] == "ok":
            prec = (f"precession period {row['period_precession']:.3f} +- "
                    f"{row['period_precession_error']:.2g} nm")
        else:
            prec = f"precession: {row['precession_status']}"
        ctx.note(f"{row['case']} (d = {row['thickness_nm']:g} nm): {decay}; {prec} vs "
                 f"{row['period_expected_label']} = {row['period_expected']:.3f} nm")

    # -- spectra ------------------------------------------------------------------------------
    spectra = {}
    for name in CASES:
        x, s_par, s_perp, _, free, _ = profiles[name, d_long]
        sel = free & (x <= d_long - CAP_MARGIN)
        q, power = _spectrum(x[sel], (s_par + 1j * s_perp)[sel])
        spectra[name] = (q, power)
        ctx.table(f"spectrum_{name}", {"q_per_nm": q, "power_normalised": power},
                  units={"q_per_nm": "1/nm", "power_normalised": "1"})

    # -- figure 1: profiles ---------------------------------------------------------------------
    fig, axes = plt.subplots(3, 2, figsize=(13, 9), layout="constrained",
                             gridspec_kw=dict(width_ratios=(1, 2.2)))
    fits = {row["case"]: row for row in summary}
    for row, name in enumerate(CASES):
        scale = 10 ** math.floor(math.log10(max(
            np.hypot(profiles[name, d][1], profiles[name, d][2])[profiles[name, d][4]].max()
            for d in (d_short, d_long))))
        for col, d in enumerate((d_short, d_long)):
            ax = axes[row, col]
            x, s_par, s_perp, _, free, _ = profiles[name, d]
            x_hi = min(d + 0.8, 3.0) if waves[name]["k_down"] == 0 and d == d_long else d + 0.8
            show = (x >= 0) & (x <= x_hi)
            ax.axvspan(0, d, color="0.93", zorder=0)
            ax.plot(x[show], s_par[show] / scale, color="C0", lw=1.1, label="s∥ (along e∥)")
            ax.plot(x[show], s_perp[show] / scale, color="C3", lw=1.1, label="s⊥ (along e⊥)")
            env = np.hypot(s_par, s_perp)
            ax.plot(x[show], env[show] / scale, color="0.35", lw=0.8, ls="--",
                    label="|s∥ + i s⊥| (envelope)")
            if d == d_long:
                f = fits[name]
                xx = np.linspace(f["x_start"], f["x_end"], 200)
                if not f["decay_status"].startswith("not meaningful"):
                    ax.plot(xx, np.exp(f["log_amplitude"] - f["decay_rate"] * xx) / scale,
                            color="k", lw=1.4, ls=":", label=f"exp fit, {_length_text(f)}")
            ax.axhline(0, color="0.7", lw=0.5)
            part = " (first 3 nm shown)" if x_hi < d else ""
            ax.set_title(f"{CASES[name]['label']}, d = {d:g} nm{part}", fontsize=9, loc="left")
            ax.set_ylabel(r"spin density ($10^{%d}\,\langle\sigma\rangle$/nm$^3$)"
                          % round(math.log10(scale)))
            if row == 2:
                ax.set_xlabel("depth x below the barrier (nm)")
            ax.set_xlim(0, x_hi)
            top = 1.15 * env[free].max() / scale
            ax.set_ylim(-top, 1.5 * top)
        axes[row, 1].legend(fontsize=7.5, loc="upper right", ncol=2)
        w = waves[name]
        text = (f"2π/(k↑−k↓) = {2 * math.pi / (w['k_up'] - w['k_down']):.2f} nm"
                if w["k_down"] > 0 else f"k↓ closed: 1/q = {1 / w['q_minority']:.2f} nm")
        # in the room above the curves (ylim), where it hides none of them
        axes[row, 0].text(0.98, 0.96, text, transform=axes[row, 0].transAxes, ha="right",
                          va="top", fontsize=8, bbox=dict(fc="white", ec="0.8"))
    fig.suptitle(f"Transverse window spin density in the free layer (F/I/F/N, V = {BIAS:g} V, "
                 "θ = 90°, m = x̂, p = ẑ; free layer shaded, Cu-like cap beyond)", fontsize=10)
    ctx.figure(fig, "transverse_spin_profiles")

    # -- figure 2: envelope, phase, spectra --------------------------------------------------
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8), layout="constrained")
    for index, name in enumerate(CASES):
        x, s_par, s_perp, _, free, _ = profiles[name, d_long]
        c = CASES[name]["color"]
        f = fits[name]
        xs = x[free]
        env = np.hypot(s_par, s_perp)[free]
        ok = env > 0
        axes[0].semilogy(xs[ok], env[ok], color=c, lw=1, label=CASES[name]["label"])
        xx = np.linspace(f["x_start"], f["x_end"], 100)
        if not f["decay_status"].startswith("not meaningful"):  # a fit that means nothing
            axes[0].semilogy(xx, np.exp(f["log_amplitude"] - f["decay_rate"] * xx), color="k",
                             ls=":", lw=1.3)
        at = len(xx) * (index + 1) // 4
        if not f["decay_status"].startswith("not meaningful"):  # that one: in the notes
            y_at = env[min(np.searchsorted(xs, xx[at]), xs.size - 1)]
            axes[0].annotate(_length_text(f), (xx[at], y_at), textcoords="offset points",
                             xytext=(6, 10), fontsize=8, color=c)
        sel = (xs >= f["x_start"]) & (xs <= f["x_end"])
        phase = np.unwrap(np.angle((s_par + 1j * s_perp)[free][sel]))
        period = (f"period {f['period_precession']:.2f} nm" if f["precession_status"] == "ok"
                  else "no period resolved")
        axes[1].plot(xs[sel], phase / (2 * math.pi), color=c, lw=1.4,
                     label=f"{CASES[name]['label']}: {period}")
        w = waves[name]
        q_exp = w["k_up"] - w["k_down"]
        axes[1].plot(xs[sel], (phase[0] + math.copysign(q_exp, f["q_precession"])
                               * (xs[sel] - xs[sel][0])) / (2 * math.pi), color=c, ls="--",
                     lw=0.9, label=("slope ∓(k↑−k↓), " if w["k_down"] > 0 else "slope ∓k↑, ")
                     + f"{f['period_expected_label']} = "
                                   f"{f['period_expected']:.2f} nm".replace("k_up", "k↑")
                     .replace("k_down", "k↓").replace("2pi", "2π"))
        q, power = spectra[name]
        axes[2].semilogy(q, power, color=c, lw=1.1, label=CASES[name]["label"])
        for value, ls in ((w["k_up"] - w["k_down"], "-"), (w["k_up"] + w["k_down"], "--")):
            for sign in (1, -1):
                axes[2].axvline(sign * value, color=c, ls=ls, lw=0.7, alpha=0.8)
    floor = min(np.hypot(*profiles[n, d_long][1:3])[profiles[n, d_long][4]].max()
                for n in CASES) * 1e-12
    axes[0].set_ylim(bottom=floor)
    axes[0].set_xlabel("depth x below the barrier (nm)")
    axes[0].set_ylabel(r"|s$_\parallel$ + i s$_\perp$|  ($\langle\sigma\rangle$/nm$^3$)")
    axes[0].set_title(f"envelope of the transverse spin, d = {d_long:g} nm (dotted: exp fits)",
                      fontsize=9)
    axes[0].legend(fontsize=8, loc="lower left")
    axes[1].set_xlabel("depth x below the barrier (nm)")
    axes[1].set_ylabel("precession phase arg(s∥ + i s⊥) / 2π  (turns)")
    axes[1].set_title("precession phase (solid) vs normal-incidence k↑−k↓ (dashed)", fontsize=9)
    axes[1].legend(fontsize=7, loc="best")
    qmax = 1.25 * max(w["k_up"] + w["k_down"] for w in waves.values())
    axes[2].set_xlim(-qmax, qmax)
    axes[2].set_ylim(1e-6, 3)
    axes[2].set_xlabel("spatial wavevector q (nm⁻¹)")
    axes[2].set_ylabel("power of s∥ + i s⊥ (normalised)")
    axes[2].set_title("spectrum of s(x); lines: ±(k↑−k↓) solid, ±(k↑+k↓) dashed", fontsize=9)
    axes[2].legend(fontsize=8, loc="upper right")
    fig.suptitle(f"Precession and decay of the injected transverse spin (V = {BIAS:g} V, "
                 "θ = 90°)", fontsize=10)
    ctx.figure(fig, "precession_and_decay")
