"""Tests of mtj_kwant.analytic.relaxation: rates ħ/τ and bands → D, λ_sf, λ_J, λ_φ (DESIGN §8).

The closed forms are written out here with scipy.constants in SI units, independently of the
module's internal units (eV, nm, fs).
"""

import doctest
import math

import numpy as np
import pytest
import scipy.constants as sc

from mtj_kwant.analytic import relaxation
from mtj_kwant.analytic.relaxation import (
    HBAR_EV_FS,
    SpinBands,
    diffusion_parameters,
    diffusion_parameters_from_bands,
    free_electron_bands,
    scba_strengths,
)

RNG_SEED = 2718
FE = {"fermi_energy": 2.62, "band_bottom": 0.0, "exchange": 3.86}  # fifn_2nm free layer


def si_free_electron(kinetic_ev, mass=1.0):
    """k (1/m), v (m/s), N per spin (1/(J m³)) of a free-electron band, in SI."""
    m = mass * sc.m_e
    k = math.sqrt(2 * m * kinetic_ev * sc.e) / sc.hbar
    return k, sc.hbar * k / m, m * k / (2 * math.pi**2 * sc.hbar**2)


def test_doctests():
    assert doctest.testmod(relaxation).failed == 0


def test_bands_match_hand_computation_in_si():
    b = free_electron_bands(2.62, 0.0, 3.86, mass=0.8)
    for k, v, n, kin in ((b.k_up, b.v_up, b.dos_up, 2.62 + 1.93), (b.k_down, b.v_down, b.dos_down, 2.62 - 1.93)):
        k_si, v_si, n_si = si_free_electron(kin, mass=0.8)
        assert k == pytest.approx(k_si * 1e-9, rel=1e-12)  # 1/nm
        assert v == pytest.approx(v_si * 1e-6, rel=1e-12)  # nm/fs
        assert n == pytest.approx(n_si * sc.e * 1e-27, rel=1e-12)  # 1/(eV nm³)


def test_normal_metal_diffusion_constant_is_v2_tau_over_3_in_si():
    """Δ = 0, no spin flip: D = v_F² τ/3 with τ = ħ/(ħ/τ_m), checked in m²/s."""
    rate = 0.05
    p = diffusion_parameters(5.0, 0.0, 0.0, momentum=rate, spin_flip=0.0)
    _, v, _ = si_free_electron(5.0)
    tau = sc.hbar / (rate * sc.e)
    assert p.tau_m == pytest.approx(tau * 1e15, rel=1e-12)
    assert p.D_si == pytest.approx(v**2 * tau / 3, rel=1e-12)
    assert p.mean_free_path == pytest.approx(v * tau * 1e9, rel=1e-12)
    assert p.D_up == p.D_down == pytest.approx(p.D)
    assert np.isinf(p.lambda_J) and np.isinf(p.lambda_phi) and np.isinf(p.lambda_sf)


def test_normal_metal_lambda_sf_with_transport_time_including_spin_flip():
    """Δ = 0: 1/τ_tr = 1/τ_m + (3/4)/τ_sf and λ_sf = √(D τ_sf) = Valet–Fert length."""
    hm, hs = 0.05, 0.01
    p = diffusion_parameters(5.0, 0.0, 0.0, momentum=hm, spin_flip=hs)
    _, v, _ = si_free_electron(5.0)
    tau_tr = sc.hbar / ((hm + 0.75 * hs) * sc.e)
    d_si = v**2 * tau_tr / 3
    lam = math.sqrt(d_si * sc.hbar / (hs * sc.e))
    assert p.lambda_sf == pytest.approx(lam * 1e9, rel=1e-12)
    assert p.lambda_sf_longitudinal == pytest.approx(p.lambda_sf, rel=1e-12)


def test_lambda_sf_scales_as_inverse_sqrt_of_rates_product():
    """λ_sf ∝ 1/√((ħ/τ_m)(ħ/τ_sf)) while the spin-flip part of the transport rate is negligible.

    With ħ/τ_sf ≤ 1e-2 ħ/τ_m here, that part changes D by less than 0.8 % (Fe-like DOS ratio),
    so λ_sf √(rates) is constant to within 0.4 %; the tolerance is 0.5 %.
    """
    rng = np.random.default_rng(RNG_SEED)
    hm = rng.uniform(0.01, 0.2, 20)
    hs = hm * rng.uniform(1e-6, 1e-2, 20)
    p = diffusion_parameters(**FE, momentum=hm, spin_flip=hs)
    product = p.lambda_sf * np.sqrt(hm * hs)
    ref = diffusion_parameters(**FE, momentum=0.05, spin_flip=0.0).D * 0.05 * HBAR_EV_FS  # = D ħ/τ_m ħ
    e = (product - math.sqrt(ref)) / (1e-3 * math.sqrt(ref))
    assert np.all(np.abs(e) < 5)
    assert p.lambda_sf.shape == (20,)


def test_lambda_sf_exact_scaling_with_common_factor():
    """Multiplying both rates by c divides every length of D (ℓ, λ_sf) by c, λ_J by √c."""
    p1 = diffusion_parameters(**FE, momentum=0.05, spin_flip=0.01)
    p4 = diffusion_parameters(**FE, momentum=0.2, spin_flip=0.04)
    assert p1.lambda_sf / p4.lambda_sf == pytest.approx(4.0, rel=1e-12)
    assert p1.mean_free_path / p4.mean_free_path == pytest.approx(4.0, rel=1e-12)
    assert p1.lambda_J / p4.lambda_J == pytest.approx(2.0, rel=1e-12)
    assert p1.lambda_phi == p4.lambda_phi


def test_ballistic_limit_gives_infinite_lengths_and_finite_dephasing():
    p = diffusion_parameters(**FE, momentum=0.0, spin_flip=0.0)
    for name in ("tau_m", "tau_sf", "mean_free_path", "D", "lambda_sf", "lambda_sf_longitudinal", "lambda_J"):
        assert np.isinf(getattr(p, name)), name
    assert p.lambda_phi == pytest.approx(math.pi / (p.bands.k_up - p.bands.k_down))
    # continuity: lengths grow without bound as the rates go to zero
    small = diffusion_parameters(**FE, momentum=1e-9, spin_flip=1e-9)
    assert small.lambda_sf > 1e8 and small.lambda_J > 1e3


def test_fe_like_free_layer_closed_forms():
    """fifn_2nm free layer at ħ/τ_m = 0.05 eV, ħ/τ_sf = 0.01 eV, spin by spin."""
    hm, hs = 0.05, 0.01
    p = diffusion_parameters(**FE, momentum=hm, spin_flip=hs)
    k_u, v_u, n_u = si_free_electron(2.62 + 1.93)
    k_d, v_d, n_d = si_free_electron(2.62 - 1.93)
    nbar = (n_u + n_d) / 2
    rate_u = hm * n_u / nbar + hs * (n_u + 2 * n_d) / (4 * nbar)
    rate_d = hm * n_d / nbar + hs * (n_d + 2 * n_u) / (4 * nbar)
    t_u, t_d = sc.hbar / (rate_u * sc.e), sc.hbar / (rate_d * sc.e)
    d_u, d_d = v_u**2 * t_u / 3, v_d**2 * t_d / 3
    d = (n_u * d_u + n_d * d_d) / (n_u + n_d)
    assert p.D_up * 1e-3 == pytest.approx(d_u, rel=1e-12)
    assert p.D_down * 1e-3 == pytest.approx(d_d, rel=1e-12)
    assert p.D_si == pytest.approx(d, rel=1e-12)
    tau_sf = sc.hbar / (hs * sc.e)
    assert p.lambda_sf * 1e-9 == pytest.approx(math.sqrt(d * tau_sf), rel=1e-12)
    assert p.lambda_J * 1e-9 == pytest.approx(math.sqrt(sc.hbar * d / (3.86 * sc.e)), rel=1e-12)
    assert p.lambda_phi * 1e-9 == pytest.approx(math.pi / (k_u - k_d), rel=1e-12)
    assert p.tau_phi * 1e-15 == pytest.approx((math.pi / (k_u - k_d)) ** 2 / d, rel=1e-12)
    # Valet–Fert: 1/λ² = 1/(D↑ τ↑↓) + 1/(D↓ τ↓↑), 1/τσσ̄ = N_σ̄ / ((N↑+N↓) τ_sf)
    inv = (n_d / (n_u + n_d)) / (d_u * tau_sf) + (n_u / (n_u + n_d)) / (d_d * tau_sf)
    assert p.lambda_sf_longitudinal * 1e-9 == pytest.approx(1 / math.sqrt(inv), rel=1e-12)
    assert p.precession_per_scattering == pytest.approx(3.86 / hm, rel=1e-12)
    # the Fe-like layer is far outside the transverse-diffusion regime: λ_J ≪ ℓ
    assert p.lambda_J < 0.1 * p.mean_free_path
    # minority electrons see the smaller density of states, so they scatter less
    assert p.tau_down > p.tau_up


def test_spin_averaged_rate_is_momentum():
    """Convention 2: the arithmetic mean of the spin momentum rates is ħ/τ_m."""
    p = diffusion_parameters(**FE, momentum=0.05, spin_flip=0.0)
    mean_rate = 0.5 * (HBAR_EV_FS / p.tau_up + HBAR_EV_FS / p.tau_down)
    assert mean_rate == pytest.approx(0.05, rel=1e-12)


def test_lengths_feed_eq23():
    from mtj_kwant.analytic import diffusion_torque

    p = diffusion_parameters(**FE, momentum=0.05, spin_flip=0.01)
    t = diffusion_torque(1.0, 50.0, eta=1.0, **p.diffusion_lengths())
    assert np.isfinite(t) and 0 < (50.0 * t).real <= 1.0


def test_from_bands_matches_free_electron_route():
    b = free_electron_bands(**FE)
    p1 = diffusion_parameters_from_bands(b, 0.05, 0.01)
    p2 = diffusion_parameters(**FE, momentum=0.05, spin_flip=0.01)
    assert p1.D == p2.D and p1.lambda_sf == p2.lambda_sf


# --------------------------------------------------------------------------------------------
# SCBA strengths
# --------------------------------------------------------------------------------------------
def test_scba_strengths_reproduce_rates_by_golden_rule():
    b = free_electron_bands(**FE)
    s = scba_strengths(0.05, 0.01, b.dos_up, b.dos_down)
    # Γ_σ = 2π γ_m N_σ: mean over spins is ħ/τ_m
    assert 0.5 * (2 * math.pi * s.momentum * (b.dos_up + b.dos_down)) == pytest.approx(0.05)
    # flip rates ħ/τσσ̄ = 4π γ_s N_σ̄; their sum is ħ/τ_sf
    assert 4 * math.pi * s.spin_flip * (b.dos_down + b.dos_up) == pytest.approx(0.01)
    d_m, d_s = s.per_site(0.1**3)
    assert d_m == pytest.approx(s.momentum / 1e-3) and d_s == pytest.approx(s.spin_flip / 1e-3)


def test_scba_spin_flip_self_energy_relaxes_spin_at_tau_sf():
    """Normal metal: out- minus in-scattering of a spin density σ_β under Σ_α σ_α · σ_α."""
    paulis = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1.0, -1.0])]
    n = 1.3
    s = scba_strengths(0.0, 0.01, n, n)
    a = 2 * math.pi * n  # spectral weight per spin
    for sb in paulis:
        gamma = s.spin_flip * sum(p @ (a * np.eye(2)) @ p for p in paulis)  # broadening
        sig_in = s.spin_flip * sum(p @ (a * sb) @ p for p in paulis)  # in-scattering of σ_β
        decay = 0.5 * (gamma @ sb + sb @ gamma) - sig_in  # = rate × σ_β
        rate = np.trace(decay @ sb).real / 2
        assert rate == pytest.approx(0.01, rel=1e-12)


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------
def test_negative_rate_is_named():
    with pytest.raises(ValueError, match=r"`momentum` must be a rate ħ/τ >= 0 eV"):
        diffusion_parameters(**FE, momentum=-0.01, spin_flip=0.01)
    with pytest.raises(ValueError, match=r"`spin_flip` must be a rate ħ/τ >= 0 eV"):
        diffusion_parameters(**FE, momentum=0.01, spin_flip=[0.01, -1.0])
    with pytest.raises(ValueError, match=r"`spin_flip` must be a finite rate"):
        scba_strengths(0.01, np.inf, 1.0, 1.0)
    with pytest.raises(TypeError, match=r"`momentum` must be a real rate"):
        diffusion_parameters(**FE, momentum="0.05", spin_flip=0.0)


def test_missing_fermi_surface_is_named():
    with pytest.raises(ValueError, match=r"the down band has no Fermi surface: E_F = 1.0 eV"):
        diffusion_parameters(1.0, 0.0, 3.86, momentum=0.05, spin_flip=0.01)
    with pytest.raises(ValueError, match=r"the up band has no Fermi surface"):
        free_electron_bands(-3.0, 0.0, 3.86)
    with pytest.raises(ValueError, match=r"`k_down` must be a finite number > 0, got 0.0: both spins"):
        SpinBands(k_up=1.0, k_down=0.0, v_up=1.0, v_down=1.0, dos_up=1.0, dos_down=1.0, exchange=1.0)


def test_bad_band_parameters_are_named():
    with pytest.raises(ValueError, match=r"`exchange` must be >= 0 eV, got -1.0; reverse m"):
        free_electron_bands(2.62, 0.0, -1.0)
    with pytest.raises(ValueError, match=r"`mass` must be > 0 \(in m_e\), got 0.0"):
        free_electron_bands(2.62, 0.0, 1.0, mass=0.0)
    with pytest.raises(ValueError, match=r"`fermi_energy` must be finite"):
        free_electron_bands(np.nan, 0.0, 1.0)
    with pytest.raises(TypeError, match=r"`bands` must be a SpinBands, got dict"):
        diffusion_parameters_from_bands({}, 0.05, 0.01)


def test_bad_scba_inputs_are_named():
    with pytest.raises(ValueError, match=r"`dos_up` \+ `dos_down` must be > 0"):
        scba_strengths(0.05, 0.01, 0.0, 0.0)
    with pytest.raises(ValueError, match=r"`dos_down` must be a density of states >= 0"):
        scba_strengths(0.05, 0.01, 1.0, -1.0)
    with pytest.raises(ValueError, match=r"`site_volume` must be a finite volume > 0 nm³, got 0"):
        scba_strengths(0.05, 0.01, 1.0, 1.0).per_site(0)
