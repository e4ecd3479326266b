"""Free-layer thickness dependence of the tunnelling torque: quantum interference and the 1/d limit.

Question: how does the torque on a finite free layer depend on its thickness d in
the coherent ballistic regime (model paper, section 3.5 and Fig. 3b)?  The
transverse spin injected across the barrier precesses in the free layer and is
reflected at the free-layer/cap interface, so the torque oscillates with d with
the periods 2π/(k↑−k↓) (precession) and 2π/(k↑+k↓) (interference of the injected
and the reflected spin current), where k↑, k↓ are the free layer's Fermi
wavevectors at normal incidence.  When the minority band is closed (half-metal)
the transverse spin is absorbed within the minority decay length 1/q and the
oscillations die out: the torque becomes interfacial, its value per unit
thickness (the effective field on the free layer) falls as 1/d.  The diffusion
model (Eq. 23) is the incoherent alternative.

Method: three F/I/F/N junctions built from ``mtj_kwant/systems/fifn_2nm.toml`` (same Fe-like
pinned electrode, same 1 nm MgO-like barrier, same Cu-like cap; the continuum limit: no
``lattice_spacing``, every point extrapolated to a → 0 over nested lattices, its error
covering quadrature and discretisation) that differ only in the free layer: a weak
ferromagnet (Δ = 1.5 eV, spin-averaged band bottom 0 eV), a strong one (the file's
Fe-like layer, Stearns' k↑ = 1.09, k↓ = 0.42 1/Å) and a half-metal (minority band
bottom 0.38 eV above E_F; its majority band bottom equals the cap's, so the cap does not
reflect the majority electrons).  A fourth, control junction is a half-metal whose majority
band is Fe's, mismatched with the cap: it shows the majority quantum-well
oscillation (period π/k↑) that survives in a half-metal and that is visible in
the charge current as well.  For each, a scan of the free-layer thickness
(0.2–5 nm in steps of 0.025 nm, θ = 90°, V = 0.1 V, T = 0) gives the window
(transport) torque T∥, T⊥ (the Fermi-sea and total parts are stored too; the
total T⊥ adds the interlayer-exchange torque b0(d)).  The interfacial limit
T(d → ∞) is the torque of the same junction with a semi-infinite free electrode
(F/I/F); the F/I/F/N torque oscillates about it.  Oscillation periods: complex
torque δT(d) = (T∥ − T∥∞) + i(T⊥ − T⊥∞), Hann-windowed, zero-padded FFT; the
strongest peaks are refined by a least-squares fit of damped complex
exponentials a_j exp[(i q_j − γ_j) d] (q_j > 0: the torque turns from e∥ toward e⊥
as d grows) and compared with k↑ ∓ k↓ (and 2k↑, 2k↓, the spin-channel quantum-well
wavevectors) from ``mtj_kwant.analytic.slonczewski.spin_wavevectors``.  The
diffusion model ``mtj_kwant.analytic.diffusion.diffusion_torque`` is fed with the
F/I/F interfacial spin current (``interfacial_*_window``), with λ_J = 1 nm,
λ_sf = 5 nm, λ_N = 1 nm, D_N/D_F = 1 and λ_φ = 0.5 or 1.5 nm (the values of the
paper's Fig. 4; η from ``cap_eta``).

What to look for: persistent oscillations for the weak (long period) and strong
(short period) ferromagnets, whose amplitude at 5 nm still exceeds the interfacial
value, so that T/d follows 1/d only on average; for the half-metal the
oscillations die out within 1–2 nm and T/d joins the 1/d line; the diffusion
curves are smooth and bend away from 1/d for d ≲ λ_φ.

Outputs: ``torque_vs_thickness.png`` (T∥, T⊥ versus d with the interfacial limit
and the expected periods), ``torque_per_thickness.png`` (log-log |T|/d with the
1/d limit and the diffusion model), ``oscillation_spectra.png`` (spectra of
δT(d) with k↑ ∓ k↓, 2k↑, 2k↓ marked), CSV tables of every curve, of the
wavevectors and of the measured periods, ``provenance.json``.
"""

import math

import numpy as np

import mtj_kwant as mk
from mtj_kwant.analytic.diffusion import cap_eta, diffusion_torque
from mtj_kwant.analytic.fits import fit_status
from mtj_kwant.analytic.slonczewski import barrier_decay_constant, spin_wavevectors
from mtj_kwant.ratios import ratio

from . import _lattice
from ._free_layers import FREE_LAYERS

TITLE = "Torque versus free-layer thickness: quantum interference, half-metal and the 1/d limit"

BIAS = 0.1  # V, small: the window torque is the linear-response transport torque
THETA = math.pi / 2
#: Free layers (spin-averaged band bottom U and exchange Δ in eV); "strong" is the file's.
CASES = {
    **FREE_LAYERS,
    "half_metal_mismatched": dict(label="half-metal, majority band mismatched with cap "
                                        "(control)", potential=0.595, exchange=5.05, color="C4"),
}
MAIN_CASES = ("weak", "strong", "half_metal")
#: Diffusion-model parameters (nm, dimensionless), Fig. 4 of the model paper.
DIFFUSION = dict(lambda_J=1.0, lambda_sf=5.0, lambda_N=1.0, diffusion_ratio=1.0)
LAMBDA_PHI = (0.5, 1.5)
TORQUE_UNIT = "(hbar/2e) A/m^2"
#: A measured wavevector is assigned to the nearest expected one within this relative distance.
ASSIGN_TOLERANCE = 0.15
#: Spectral peaks above this fraction of the largest are fitted.
PEAK_THRESHOLD = 0.004
#: Sampling step of the free-layer thickness (nm): uniform for the spectra, and a round step
#: (0.025 nm) divides every thickness, so that the continuum extrapolation finds its lattices.
THICKNESS_STEP = 0.025
LATTICE_KEYS = ("torque_inplane_window", "torque_outofplane_window", "current_density",
                "torque_outofplane_total")


def _spectrum(d, values, pad):
    """Power spectrum |FFT|² (normalised to 1) of a Hann-windowed complex series vs q (nm⁻¹)."""
    step = d[1] - d[0]
    window = np.hanning(len(values))
    spec = np.fft.fftshift(np.fft.fft(values * window, pad))
    q = np.fft.fftshift(np.fft.fftfreq(pad, step)) * 2 * math.pi
    power = np.abs(spec) ** 2
    return q, power / power.max()


def _refine(d, values, q0):
    """Least-squares fit of Σ a_j exp[(i q_j − γ_j) d]; returns q, σ_q, γ, σ_γ, |a|, residual."""
    from scipy.optimize import least_squares

    k = len(q0)

    def model(p):
        basis = np.exp(np.outer(d, 1j * p[:k] - p[k:]))
        amp, *_ = np.linalg.lstsq(basis, values, rcond=None)
        return basis @ amp - values, amp

    def residual(p):
        r, _ = model(p)
        return np.r_[r.real, r.imag]

    sol = least_squares(residual, np.r_[q0, np.full(k, 0.05)])
    r, amp = model(sol.x)
    dof = max(len(sol.fun) - 2 * k, 1)
    cov = np.linalg.pinv(sol.jac.T @ sol.jac) * np.sum(sol.fun ** 2) / dof
    sig = np.sqrt(np.clip(np.diag(cov), 0, None))
    rel = float(np.sqrt(np.mean(np.abs(r) ** 2) / np.mean(np.abs(values) ** 2)))
    return sol.x[:k], sig[:k], sol.x[k:], sig[k:], np.abs(amp), rel


def _component_status(d, q, q_sigma, gamma, gamma_sigma, period, n_components):
    """"ok" or "not meaningful: <reason>" for one fitted damped exponential.

    Reasons: the fit as a whole (2 real values per thickness against 4 real parameters per
    component, :func:`mtj_kwant.analytic.fits.fit_status`); a wavevector beyond the Nyquist
    limit π/step of the thickness grid (the grid cannot represent it: aliased); a period
    longer than the thickness record or zero within its error.  Not: an amplitude that grows
    with d
    (that only makes the damping meaningless: :func:`_damping_status`).
    """
    status = fit_status(2 * len(d), 4 * n_components, [q_sigma, gamma_sigma])
    if status != "ok":
        return status
    nyquist = math.pi / float(d[1] - d[0])
    record = float(d[-1] - d[0])
    if abs(q) > nyquist:
        reason = (f"|q| = {abs(q):.3g} nm^-1 is beyond the Nyquist wavevector pi/step = "
                  f"{nyquist:.3g} nm^-1 of the thickness grid (aliased)")
    elif not period.ok:
        reason = period.status
    elif period.value > record:
        reason = (f"its period {period.value:.3g} nm exceeds the {record:g} nm thickness "
                  "record")
    else:
        return "ok"
    return fit_status(2 * len(d), 4 * n_components, unphysical=reason)


def _damping_status(gamma, gamma_sigma):
    """Whether the fitted damping γ of a component means a decay length 1/γ."""
    if gamma < 0 and gamma + gamma_sigma < 0:
        return (f"not meaningful: the amplitude grows with d over the record (gamma = "
                f"{gamma:.3g} +- {gamma_sigma:.2g} nm^-1 < 0, a negative decay length "
                f"{1 / gamma:.3g} nm): no damping can be read off")
    if not abs(gamma) > gamma_sigma:
        return (f"no damping resolved: gamma = {gamma:.3g} +- {gamma_sigma:.2g} nm^-1 is zero "
                "within its uncertainty")
    return "ok"


def _dominant(periods, case):
    """The meaningful fitted component of largest amplitude of a case, or None."""
    rows = [r for r in periods if r["case"] == case and r["status"] == "ok"]
    return min(rows, key=lambda r: r["rank"]) if rows else None


def _expected(k_up, k_down):
    """The interference wavevectors to compare with (nm⁻¹, > 0).

    k↑ ∓ k↓: precession and incident/reflected interference of the transverse spin;
    2k↑, 2k↓: quantum wells of each spin channel; 3k↑ − k↓, 3k↓ − k↑: their sidebands
    2k_σ ± (k↑ − k↓).  A closed minority band (k↓ = 0) leaves k↑, 2k↑ and the second
    harmonic 4k↑ of the majority quantum well.
    """
    if k_down == 0:
        return {"k_up": k_up, "2k_up": 2 * k_up, "4k_up": 4 * k_up}
    out = {"k_up-k_down": k_up - k_down, "k_up+k_down": k_up + k_down,
           "2k_up": 2 * k_up, "2k_down": 2 * k_down,
           "3k_up-k_down": 3 * k_up - k_down, "3k_down-k_up": 3 * k_down - k_up}
    return {k: v for k, v in out.items() if v > 0}


def run(ctx):
    import matplotlib.pyplot as plt

    base = ctx.junction("fifn_2nm")
    step = ctx.pick(0.2, THICKNESS_STEP)
    grid = np.round(np.arange(0.2, 5.0 + step / 2, step), 6)
    rtol = ctx.pick(1e-2, 1e-3)
    cases = ctx.pick(("weak", "strong", "half_metal"), tuple(CASES))
    ef = base.fermi_energy
    free = base.layers[1]
    params = {}
    for name in cases:
        c = CASES[name]
        u = free.potential if c["potential"] is None else c["potential"]
        delta = free.exchange if c["exchange"] is None else c["exchange"]
        params[name] = (u, delta)
    ctx.setting(bias_V=BIAS, theta_deg=90.0, temperature_K=0.0, rtol=rtol,
                lattice=_lattice.CONTINUUM, thickness_grid_nm=grid, parts="both (window shown)",
                barrier=dict(thickness_nm=base.layers[0].thickness,
                             potential_eV=base.layers[0].potential),
                pinned=dict(potential_eV=base.left.potential, exchange_eV=base.left.exchange),
                cap=dict(potential_eV=base.right.potential, exchange_eV=base.right.exchange),
                free_layers={n: dict(label=CASES[n]["label"], potential_eV=params[n][0],
                                     exchange_eV=params[n][1]) for n in cases},
                interfacial_limit="torque of the F/I/F junction with a semi-infinite free "
                                  "electrode of the same material",
                spectrum="complex dT = (Tpar - Tpar_inf) + i (Tperp - Tperp_inf), Hann window, "
                         f"zero-padded FFT; peaks >= {PEAK_THRESHOLD:g} of the maximum refined by a "
                         "fit of damped complex exponentials; assigned to the nearest expected "
                         f"wavevector within {100 * ASSIGN_TOLERANCE:g} %",
                diffusion=dict(DIFFUSION, lambda_phi=LAMBDA_PHI,
                               J0="F/I/F interfacial_inplane_window + i "
                                  "interfacial_outofplane_window"))

    data, limit, waves, periods = {}, {}, {}, []
    for name in cases:
        u, delta = params[name]
        junction = mk.junction_with(base, {"layer[1].potential": u,
                                           "layer[1].exchange": delta})
        table = mk.scan(junction, bias=[BIAS], theta=THETA,
                        vary={"layer[1].thickness": list(grid)}, parts="both", rtol=rtol,
                        **ctx.scan_options(f"thickness_{name}"))
        data[name] = table
        semi = mk.Junction(fermi_energy=ef, left=base.left, layers=(base.layers[0],),
                           right=mk.Electrode(potential=u, exchange=delta, free=True),
                           effective_mass=base.effective_mass,
                           name=f"F/I/F, semi-infinite {CASES[name]['label']}")
        inf = mk.scan(semi, bias=[BIAS], theta=THETA, parts="both", rtol=rtol,
                      **ctx.scan_options(f"interfacial_{name}"))
        _lattice.record(ctx, f"thickness_{name}", table, LATTICE_KEYS)
        _lattice.record(ctx, f"interfacial_{name}", inf, LATTICE_KEYS)
        limit[name] = {k: float(inf[k][0]) for k in (
            "torque_inplane_window", "torque_outofplane_window", "interfacial_inplane_window",
            "interfacial_outofplane_window", "current_density", "torque_outofplane_total")}
        k_up, k_down = (float(k) for k in spin_wavevectors(ef, u, delta))
        q_min = float(barrier_decay_constant(ef, u + delta / 2)) if k_down == 0 else math.nan
        waves[name] = dict(k_up=k_up, k_down=k_down, q_minority=q_min)
        d = np.asarray(table["layer[1].thickness"], float)
        ctx.table(f"torque_vs_thickness_{name}", {
            "thickness_nm": d,
            "torque_inplane_window": table["torque_inplane_window"],
            "torque_outofplane_window": table["torque_outofplane_window"],
            "torque_inplane_window_error": table["torque_inplane_window_error"],
            "torque_outofplane_window_error": table["torque_outofplane_window_error"],
            "interfacial_inplane_window": table["interfacial_inplane_window"],
            "interfacial_outofplane_window": table["interfacial_outofplane_window"],
            "current_density": table["current_density"],
            "torque_inplane_total": table["torque_inplane_total"],
            "torque_outofplane_total": table["torque_outofplane_total"],
            "torque_outofplane_total_error": table["torque_outofplane_total_error"],
            **_lattice.columns(table, LATTICE_KEYS[:2]),
        }, units={"thickness_nm": "nm", "current_density": "A/m^2", "lattice_spacing_nm": "nm",
                  "torque_inplane_window_lattice_error": TORQUE_UNIT,
                  "torque_outofplane_window_lattice_error": TORQUE_UNIT,
                  **{k: TORQUE_UNIT for k in ("torque_inplane_window", "torque_outofplane_window",
                                              "torque_inplane_window_error",
                                              "torque_outofplane_window_error",
                                              "interfacial_inplane_window",
                                              "interfacial_outofplane_window",
                                              "torque_inplane_total", "torque_outofplane_total",
                                              "torque_outofplane_total_error")}})
        errs = np.r_[table["torque_inplane_window_error"], table["torque_outofplane_window_error"]]
        ctx.error(f"torque_window_{name}_max", float(errs.max()))
        if not all(table["converged"]):
            ctx.note(f"{name}: {int(np.sum(~np.asarray(table['converged'], bool)))} thickness "
                     "points did not converge (converged = false in the table)")

    # -- interfacial limit and wavevectors -----------------------------------------------------
    names = list(cases)
    ctx.table("interfacial_limit", {
        "case": names,
        "torque_inplane_inf": [limit[n]["torque_inplane_window"] for n in names],
        "torque_outofplane_inf": [limit[n]["torque_outofplane_window"] for n in names],
        "current_density_inf": [limit[n]["current_density"] for n in names],
        "mean_torque_inplane_d_ge_2p5nm": [
            float(np.mean(data[n]["torque_inplane_window"][data[n]["layer[1].thickness"] >= 2.5]))
            for n in names],
        "mean_torque_outofplane_d_ge_2p5nm": [
            float(np.mean(data[n]["torque_outofplane_window"][
                data[n]["layer[1].thickness"] >= 2.5])) for n in names],
        "torque_outofplane_total_inf": [limit[n]["torque_outofplane_total"] for n in names],
    }, units={"current_density_inf": "A/m^2", **{k: TORQUE_UNIT for k in (
        "torque_inplane_inf", "torque_outofplane_inf", "mean_torque_inplane_d_ge_2p5nm",
        "mean_torque_outofplane_d_ge_2p5nm", "torque_outofplane_total_inf")}})
    ctx.table("wavevectors", {
        "case": names,
        "band_bottom_eV": [params[n][0] for n in names],
        "exchange_eV": [params[n][1] for n in names],
        "k_up": [waves[n]["k_up"] for n in names],
        "k_down": [waves[n]["k_down"] for n in names],
        "period_2pi_over_kup_minus_kdown": [2 * math.pi / (waves[n]["k_up"] - waves[n]["k_down"])
                                            for n in names],
        "period_2pi_over_kup_plus_kdown": [2 * math.pi / (waves[n]["k_up"] + waves[n]["k_down"])
                                           for n in names],
        "period_pi_over_kup": [math.pi / waves[n]["k_up"] for n in names],
        "period_pi_over_kdown": [math.pi / waves[n]["k_down"] if waves[n]["k_down"] > 0
                                 else math.nan for n in names],
        "minority_decay_length": [1 / waves[n]["q_minority"] for n in names],
    }, units={"band_bottom_eV": "eV", "exchange_eV": "eV", "k_up": "1/nm", "k_down": "1/nm",
              "period_2pi_over_kup_minus_kdown": "nm", "period_2pi_over_kup_plus_kdown": "nm",
              "period_pi_over_kup": "nm", "period_pi_over_kdown": "nm",
              "minority_decay_length": "nm"})
    ctx.note("k_up, k_down: normal-incidence Fermi wavevectors of the free layer "
             "(spin_wavevectors); for a half-metal k_down = 0 (closed), so 2pi/(k_up -/+ k_down) "
             "both reduce to 2pi/k_up and the minority spin decays over 1/q_minority "
             "(barrier_decay_constant of the minority band).")

    # -- oscillation spectra and periods ---------------------------------------------------------
    spectra = {}
    for name in names:
        t = data[name]
        d = np.asarray(t["layer[1].thickness"], float)
        dt = ((t["torque_inplane_window"] - limit[name]["torque_inplane_window"])
              + 1j * (t["torque_outofplane_window"] - limit[name]["torque_outofplane_window"]))
        q, power = _spectrum(d, dt, pad=8192)
        spectra[name] = (q, power)
        ctx.table(f"spectrum_{name}", {"q_per_nm": q, "power_normalised": power},
                  units={"q_per_nm": "1/nm", "power_normalised": "1"})
        from scipy.signal import find_peaks

        peaks, _ = find_peaks(power, height=PEAK_THRESHOLD)
        peaks = peaks[np.argsort(power[peaks])[::-1]][:5]
        if len(peaks) == 0:
            continue
        qf, sq, g, sg, amp, rel = _refine(d, dt, q[peaks])
        expected = _expected(waves[name]["k_up"], waves[name]["k_down"])
        for rank, i in enumerate(np.argsort(amp)[::-1]):
            label, value = min(expected.items(), key=lambda kv: abs(abs(qf[i]) - kv[1]))
            if abs(abs(qf[i]) - value) > ASSIGN_TOLERANCE * value:
                label = "none"
            period = ratio(2 * math.pi, 0.0, abs(qf[i]), sq[i], name="the period",
                           num_name="2 pi", den_name="|q|", den_sign=1)
            periods.append(dict(case=name, rank=rank + 1, q_fft=float(q[peaks[i]]),
                                power_fft=float(power[peaks[i]]), q_fit=float(qf[i]),
                                q_fit_sigma=float(sq[i]), gamma_fit=float(g[i]),
                                gamma_fit_sigma=float(sg[i]), amplitude_fit=float(amp[i]),
                                period_fit=period.value, period_fit_error=period.error,
                                nearest=label, q_expected=float(value),
                                period_expected=2 * math.pi / value,
                                deviation_percent=100 * (abs(qf[i]) - value) / value,
                                fit_residual=rel,
                                status=_component_status(d, qf[i], sq[i], g[i], sg[i], period,
                                                         n_components=len(peaks)),
                                damping_status=_damping_status(g[i], sg[i])))
    if periods:
        ctx.table("oscillation_periods", {k: [row[k] for row in periods] for k in periods[0]},
                  units={"q_fft": "1/nm", "q_fit": "1/nm", "q_fit_sigma": "1/nm",
                         "gamma_fit": "1/nm", "gamma_fit_sigma": "1/nm",
                         "amplitude_fit": TORQUE_UNIT, "period_fit": "nm",
                         "period_fit_error": "nm", "nearest": "expected wavevector within "
                         f"{100 * ASSIGN_TOLERANCE:g} % ('none': no such)",
                         "status": "ok or 'not meaningful: <reason>' (then the row's fit "
                                   "numbers mean nothing)",
                         "damping_status": "ok, 'no damping resolved: ...' or 'not "
                                           "meaningful: ...' (gamma_fit)", "q_expected": "1/nm",
                         "period_expected": "nm", "deviation_percent": "%", "power_fft": "1",
                         "fit_residual": "rms residual / rms signal"})
        record = float(grid[-1] - grid[0])
        for row in periods:
            if row["status"] != "ok":
                ctx.note(f"{row['case']}: fitted component {row['rank']} (q = "
                         f"{row['q_fit']:.3g} nm^-1) {row['status']}")
        for name in names:
            row = _dominant(periods, name)
            if row is None:
                if any(r["case"] == name for r in periods):
                    ctx.note(f"{name}: no fitted oscillation is meaningful (see above)")
                continue
            if row["period_fit"] > record / 3:
                ctx.note(f"{row['case']}: the {record:g} nm thickness record holds only "
                         f"{record / row['period_fit']:.1f} periods of the dominant oscillation, "
                         "so its wavevector is biased by the window; a thick-layer profile "
                         "(study spin_profiles) measures the precession period directly.")
            near = (f"nearest {row['nearest']} = {row['q_expected']:.3f} nm^-1 (period "
                    f"{row['period_expected']:.3f} nm), {row['deviation_percent']:+.1f} %"
                    if row["nearest"] != "none" else
                    f"no expected wavevector within {100 * ASSIGN_TOLERANCE:g} % (closest "
                    f"{row['q_expected']:.3f} nm^-1, {row['deviation_percent']:+.1f} %)")
            damping = (f"damping {row['gamma_fit']:.3f} +- {row['gamma_fit_sigma']:.2g} nm^-1"
                       if row["damping_status"] == "ok" else f"damping {row['damping_status']}")
            ctx.note(f"{row['case']}: dominant oscillation q = {row['q_fit']:.3f} +- "
                     f"{row['q_fit_sigma']:.2g} nm^-1 (period {row['period_fit']:.3f} +- "
                     f"{row['period_fit_error']:.2g} nm, {damping}), {near}")

    # -- diffusion model ------------------------------------------------------------------------
    d_fine = np.geomspace(grid[0], grid[-1], 200)
    diff = {}
    for name in names:
        j0 = (limit[name]["interfacial_inplane_window"]
              + 1j * limit[name]["interfacial_outofplane_window"])
        for lphi in LAMBDA_PHI:
            eta = cap_eta(DIFFUSION["lambda_J"], lphi, DIFFUSION["lambda_sf"],
                          DIFFUSION["lambda_N"], DIFFUSION["diffusion_ratio"])
            diff[name, lphi] = diffusion_torque(j0, d_fine, DIFFUSION["lambda_J"], lphi,
                                                DIFFUSION["lambda_sf"], eta)
        ctx.table(f"diffusion_{name}", {
            "thickness_nm": d_fine,
            **{f"torque_inplane_per_nm_lphi{lp:g}": diff[name, lp].real for lp in LAMBDA_PHI},
            **{f"torque_outofplane_per_nm_lphi{lp:g}": diff[name, lp].imag for lp in LAMBDA_PHI},
            "interfacial_limit_abs_per_nm": abs(j0) / d_fine,
        }, units={"thickness_nm": "nm", **{k: "(hbar/2e) A/m^2 per nm" for k in (
            *(f"torque_inplane_per_nm_lphi{lp:g}" for lp in LAMBDA_PHI),
            *(f"torque_outofplane_per_nm_lphi{lp:g}" for lp in LAMBDA_PHI),
            "interfacial_limit_abs_per_nm")}})

    # -- figure 1: T(d) -------------------------------------------------------------------------
    scale = 1e6
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 2.8 * len(names) + 0.8), sharex=True,
                             layout="constrained")
    axes = np.atleast_1d(axes)
    for ax, name in zip(axes, names):
        t = data[name]
        d = t["layer[1].thickness"]
        ax.plot(d, t["torque_inplane_window"] / scale, color="C0", lw=1.3, label="T∥ (Kwant)")
        ax.plot(d, t["torque_outofplane_window"] / scale, color="C3", lw=1.3, label="T⊥ (Kwant)")
        ax.axhline(limit[name]["torque_inplane_window"] / scale, color="C0", ls="--", lw=1,
                   label="T∥ interfacial limit (F/I/F)")
        ax.axhline(limit[name]["torque_outofplane_window"] / scale, color="C3", ls="--", lw=1,
                   label="T⊥ interfacial limit (F/I/F)")
        ax.axhline(0, color="0.8", lw=0.6, zorder=0)
        w = waves[name]
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi + 0.45 * (hi - lo))
        y1, y2 = hi + 0.3 * (hi - lo), hi + 0.12 * (hi - lo)
        if w["k_down"] > 0:
            bars = [(2 * math.pi / (w["k_up"] - w["k_down"]), "2π/(k↑−k↓)", y1),
                    (2 * math.pi / (w["k_up"] + w["k_down"]), "2π/(k↑+k↓)", y2)]
        else:
            bars = [(2 * math.pi / w["k_up"], "2π/k↑ (k↓ closed)", y1),
                    (math.pi / w["k_up"], "π/k↑", y2)]
        for length, text, y in bars:
            ax.annotate("", xy=(0.3 + length, y), xytext=(0.3, y),
                        arrowprops=dict(arrowstyle="|-|", lw=1, color="k",
                                        shrinkA=0, shrinkB=0, mutation_scale=3))
            ax.text(0.35 + length, y, f" {text} = {length:.2f} nm", va="center", fontsize=8)
        dom = _dominant(periods, name)
        extra = ""
        if dom is not None:
            r = dom
            if r["damping_status"] == "ok":
                damping = f"amplitude ∝ exp(−γd), γ = {r['gamma_fit']:.2f} nm⁻¹"
            elif r["damping_status"].startswith("no damping"):
                damping = "no damping resolved"
            else:
                damping = "amplitude grows over this range (no damping)"
            extra = f"\nmeasured main period {r['period_fit']:.2f} nm, {damping}"
        if w["k_down"] == 0:
            extra += f"; minority decay length 1/q = {1 / w['q_minority']:.2f} nm"
        ax.set_title(f"{CASES[name]['label']} (U = {params[name][0]:g} eV, "
                     f"Δ = {params[name][1]:g} eV){extra}", fontsize=8.5, loc="left")
        ax.set_ylabel("torque T∥, T⊥ (10⁶ (ħ/2e) A/m²)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=8, frameon=False)
    axes[-1].set_xlabel("free-layer thickness d (nm)")
    fig.suptitle(f"Window torque on the free layer vs thickness, F/I/F/N, V = {BIAS:g} V, "
                 f"θ = 90° (bars: expected periods at normal incidence)", fontsize=10)
    ctx.figure(fig, "torque_vs_thickness")

    # -- figure 2: |T|/d log-log ------------------------------------------------------------------
    ncol = 2 if len(names) > 3 else len(names)
    nrow = math.ceil(len(names) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.2 * ncol, 4.2 * nrow), sharex=True,
                             sharey=True, constrained_layout=True, squeeze=False)
    for ax, name in zip(axes.ravel(), names):
        t = data[name]
        d = np.asarray(t["layer[1].thickness"], float)
        mag = np.hypot(t["torque_inplane_window"], t["torque_outofplane_window"])
        j_inf = math.hypot(limit[name]["torque_inplane_window"],
                           limit[name]["torque_outofplane_window"])
        ax.loglog(d, mag / d, color=CASES[name]["color"], lw=1.4,
                  label="|T|/d, ballistic (Kwant)")
        ax.loglog(d_fine, j_inf / d_fine, color="k", ls="--", lw=1.2,
                  label="|T∞|/d, interfacial limit ∝ 1/d")
        for lphi, ls in zip(LAMBDA_PHI, (":", "-.")):
            ax.loglog(d_fine, np.abs(diff[name, lphi]), color="0.45", ls=ls, lw=1.3,
                      label=f"diffusion, λ_φ = {lphi:g} nm")
        ax.set_title(CASES[name]["label"], fontsize=9)
        ax.grid(True, which="both", color="0.92", lw=0.5)
        ax.legend(fontsize=7, loc="lower left")
    for ax in axes.ravel()[len(names):]:
        ax.set_visible(False)
    from matplotlib.ticker import NullFormatter

    for ax in axes[-1]:
        ax.set_xlabel("free-layer thickness d (nm)")
        ax.set_xticks([0.2, 0.5, 1, 2, 5], labels=["0.2", "0.5", "1", "2", "5"])
        ax.xaxis.set_minor_formatter(NullFormatter())
    for ax in axes[:, 0]:
        ax.set_ylabel("|T|/d  ((ħ/2e) A/m² per nm)")
    fig.suptitle(f"Torque per unit thickness (effective field) vs d, V = {BIAS:g} V, θ = 90°; "
                 f"diffusion: λ_J = {DIFFUSION['lambda_J']:g}, λ_sf = {DIFFUSION['lambda_sf']:g}, "
                 f"λ_N = {DIFFUSION['lambda_N']:g} nm", fontsize=9)
    ctx.figure(fig, "torque_per_thickness")

    # -- figure 3: spectra ----------------------------------------------------------------------
    fig, axes = plt.subplots(len(names), 1, figsize=(11, 2.4 * len(names) + 0.5), sharex=True,
                             layout="constrained")
    axes = np.atleast_1d(axes)
    styles = {"k_up-k_down": ("-", "k↑−k↓", "k"), "k_up+k_down": ("--", "k↑+k↓", "k"),
              "2k_up": (":", "2k↑", "k"), "2k_down": ("-.", "2k↓", "k"),
              "3k_up-k_down": (":", "3k↑−k↓", "0.6"), "3k_down-k_up": ("-.", "3k↓−k↑", "0.6"),
              "k_up": ("-", "k↑ (k↓ closed)", "k"), "4k_up": ("--", "4k↑", "0.6")}
    for ax, name in zip(axes, names):
        q, power = spectra[name]
        ax.semilogy(q, power, color=CASES[name]["color"], lw=1.2)
        w = waves[name]
        for key, value in _expected(w["k_up"], w["k_down"]).items():
            ls, text, color = styles[key]
            for sign in (1, -1):
                ax.axvline(sign * value, color=color, ls=ls, lw=0.8,
                           label=f"±({text}) = {value:.2f} nm⁻¹" if sign == 1 else None)
        # each fitted peak: ▼ with its rank above it; the periods are listed in the legend
        # (text labels beside close peaks overlapped each other and ran into the legend)
        for r in sorted((r for r in periods if r["case"] == name), key=lambda r: r["rank"]):
            ax.plot(r["q_fit"], r["power_fft"], "v", color="k", ms=5)
            flag = "" if r["status"] == "ok" else " (not meaningful)"
            ax.plot(r["q_fit"], 4 * r["power_fft"], ls="", marker=f"${r['rank']}$", color="k",
                    ms=6, label=f"peak {r['rank']}: period {r['period_fit']:.2f} nm{flag}")
        ax.set_ylim(1e-5, 30)
        ax.set_ylabel("power (normalised)")
        ax.set_title(f"{CASES[name]['label']}: spectrum of δT(d) = T(d) − T∞ "
                     "(▼ fitted peaks, numbered; period 2π/|q|)", fontsize=8)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                  title="expected (normal incidence),\nfitted peaks", title_fontsize=7,
                  alignment="left")
    qmax = max([1.3 * 2 * waves[n]["k_up"] for n in names]
               + [1.1 * abs(r["q_fit"]) for r in periods])
    axes[-1].set_xlim(-qmax, qmax)
    axes[-1].set_xlabel("thickness wavevector q (nm⁻¹; q > 0: T turns from e∥ toward e⊥ "
                        "with growing d)")
    ctx.figure(fig, "oscillation_spectra")
