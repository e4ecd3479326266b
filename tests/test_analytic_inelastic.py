"""Tests of mtj_kwant.analytic.inelastic: electron–phonon and electron–magnon corrections."""

import doctest
import math

import numpy as np
import pytest

from mtj_kwant.analytic import inelastic
from mtj_kwant.analytic.inelastic import (
    elastic_inplane_torque,
    magnon_inplane_angular_factor,
    magnon_inplane_correction,
    magnon_outofplane_angular_factor,
    magnon_outofplane_correction,
    phonon_inplane_torque,
    phonon_outofplane_correction,
)

RNG_SEED = 777


def random_cases(n=50):
    rng = np.random.default_rng(RNG_SEED)
    for _ in range(n):
        yield dict(
            v=rng.uniform(0.0, 1.0, 7),
            theta=rng.uniform(0, 2 * np.pi, 7),
            g0=rng.uniform(0.1, 10.0),
            p=rng.uniform(-1, 1),
            p2=rng.uniform(-1, 1),
            phase=rng.uniform(-0.5, 0.5),
            zeta=rng.uniform(-5, 5),
            nu=rng.choice([0.0, 0.5, 1.0, 2.0, rng.uniform(-0.9, 3.0)]),
        )


def test_parities_in_bias():
    # Phonon T∥ (Eq. 16) and magnon T∥ correction (Eq. 18 with |V|^{ν+1}V) are odd, the T⊥
    # corrections (Eqs. 17, 19) even, for any real ν (random, seeded); exact up to rounding.
    for c in random_cases():
        v, th = c["v"], c["theta"]
        zn = dict(zeta=c["zeta"], nu=c["nu"])
        odd = [
            (phonon_inplane_torque, dict(conductance=c["g0"], polarization_left=c["p"], **zn)),
            (magnon_inplane_correction, dict(polarization=c["p"], **zn)),
        ]
        even = [
            (phonon_outofplane_correction,
             dict(conductance=c["g0"], polarization_right=c["p2"], phase_left=c["phase"], **zn)),
            (magnon_outofplane_correction, dict(polarization=c["p"], phase=c["phase"], **zn)),
        ]
        for func, kw in odd:
            assert np.allclose(func(-v, th, **kw), -func(v, th, **kw), rtol=1e-14, atol=0)
        for func, kw in even:
            assert np.allclose(func(-v, th, **kw), func(v, th, **kw), rtol=1e-14, atol=0)


def test_angular_factors_vanish_for_collinear_magnetizations():
    # sin θ factor: zero at θ = 0 and to rounding (sin π ≈ 1.2e-16) at θ = π.
    for p in np.linspace(-1, 1, 9):
        for th in (0.0, math.pi):
            assert abs(magnon_inplane_angular_factor(th, p)) < 1e-15
            assert abs(magnon_outofplane_angular_factor(th, p, 0.3)) < 1e-15
            t_par = phonon_inplane_torque(0.3, th, conductance=1.0, polarization_left=p, zeta=1.0, nu=2)
            assert abs(t_par) < 1e-15
            assert abs(phonon_outofplane_correction(0.3, th, conductance=1.0, polarization_right=p,
                                                    phase_left=0.3, zeta=1.0, nu=2)) < 1e-15


def test_magnon_inplane_factor_at_right_angle():
    # At θ = π/2: P(1+P) − (1−P) (Eq. 18 with cos θ = 0); rounding tolerance.
    p = np.linspace(-1, 1, 21)
    factor = magnon_inplane_angular_factor(np.pi / 2, p)
    assert np.allclose(factor, p * (1 + p) - (1 - p), rtol=0, atol=1e-15)


def test_explicit_values_and_limits():
    # Hand-evaluated Eqs. (16)–(19) for G0 = 2, P_L = 0.5, P_R = 0.4, ϕ_L = 0.1, ζ = 3, ν = 2,
    # V = 0.2, θ = π/3 (rounding tolerance); ζ = 0 recovers the elastic torque.
    v, th = 0.2, math.pi / 3
    s, c = math.sin(th), math.cos(th)
    t_par = phonon_inplane_torque(v, th, conductance=2, polarization_left=0.5, zeta=3, nu=2)
    assert t_par == pytest.approx(2 * 0.5 * s * (1 + 3 * v**4) * v, rel=1e-14)
    d_perp = phonon_outofplane_correction(
        v, th, conductance=2, polarization_right=0.4, phase_left=0.1, zeta=3, nu=2
    )
    assert d_perp == pytest.approx(2 * 0.4 * 0.1 * s * 3 * v**5, rel=1e-14)
    assert magnon_inplane_correction(v, th, polarization=0.5, zeta=3, nu=2) == pytest.approx(
        3 * s * (0.5 * 1.5 - 0.5 * (1 + 0.5 * c)) * v**4, rel=1e-14)
    assert magnon_outofplane_correction(v, th, polarization=0.5, phase=0.1, zeta=3, nu=2) == pytest.approx(
        3 * 0.5 * 0.1 * s * (1 - c) * v**4, rel=1e-14)
    no_phonon = phonon_inplane_torque(v, th, conductance=2, polarization_left=0.5, zeta=0, nu=2)
    assert no_phonon == pytest.approx(
        elastic_inplane_torque(v, th, conductance=2, polarization_left=0.5), rel=1e-15)


def test_broadcasting_over_bias_and_angle():
    # bias (n,1) × theta (1,m) → (n,m), equal to the element-wise evaluation.
    v = np.linspace(-0.5, 0.5, 5)[:, None]
    th = np.linspace(0, np.pi, 4)[None, :]
    out = magnon_outofplane_correction(v, th, polarization=0.6, phase=0.2, zeta=1.0, nu=0.5)
    assert out.shape == (5, 4)
    kw = dict(polarization=0.6, phase=0.2, zeta=1.0, nu=0.5)
    assert out[1, 2] == magnon_outofplane_correction(v[1, 0], th[0, 2], **kw)


def test_error_messages_name_the_argument():
    with pytest.raises(ValueError, match="`nu` must be > -1"):
        phonon_inplane_torque(0.1, 1.0, conductance=1, polarization_left=0.5, zeta=1, nu=-1.0)
    with pytest.raises(TypeError, match="`nu` must be a scalar"):
        magnon_inplane_correction(0.1, 1.0, polarization=0.5, zeta=1, nu=[1, 2])
    with pytest.raises(ValueError, match="`polarization_left` must lie in \\[-1, 1\\]"):
        phonon_inplane_torque(0.1, 1.0, conductance=1, polarization_left=1.5, zeta=1, nu=2)
    with pytest.raises(ValueError, match="`polarization` must lie in \\[-1, 1\\]"):
        magnon_inplane_angular_factor(1.0, -2.0)
    with pytest.raises(ValueError, match="`bias` must be finite"):
        magnon_outofplane_correction(np.nan, 1.0, polarization=0.5, phase=0.1, zeta=1, nu=0.5)
    with pytest.raises(TypeError, match="`theta` must be a number"):
        magnon_inplane_angular_factor("90deg", 0.5)


def test_docstring_examples_run():
    result = doctest.testmod(inelastic, extraglobs={"np": np})
    assert result.failed == 0 and result.attempted > 0
