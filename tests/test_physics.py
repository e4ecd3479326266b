"""The Kwant-free physics room: Fermi function, its derivative and integral, torque geometry."""

import ast
import doctest
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate

import mtj_kwant as mk
from mtj_kwant import physics
from mtj_kwant.physics import (
    fermi,
    fermi_integral,
    fermi_slope,
    magnetization_direction,
    torque_axes,
    torque_components,
)

PACKAGE = Path(mk.__file__).parent


@pytest.fixture
def strict_floats():
    """Overflow, invalid operations and divisions by zero are errors, and so are warnings."""
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        yield


# ------------------------------------------------------------------------------------------
# occupations
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kT", [1e-3, 0.025, 0.3])
def test_fermi_is_the_closed_form(kT):
    e = np.linspace(-20 * kT, 20 * kT, 81) + 0.7
    exact = 1.0 / (np.exp((e - 0.7) / kT) + 1.0)
    np.testing.assert_allclose(fermi(e, 0.7, kT), exact, rtol=1e-13, atol=1e-16)


def test_fermi_is_one_half_at_mu_and_symmetric():
    assert float(fermi(1.2, 1.2, 0.0)) == 0.5 and float(fermi(1.2, 1.2, 0.05)) == 0.5
    x = np.linspace(-1, 1, 41)
    np.testing.assert_allclose(fermi(1.2 + x, 1.2, 0.05) + fermi(1.2 - x, 1.2, 0.05), 1.0,
                               rtol=0, atol=1e-15)


def test_fermi_at_zero_temperature_is_the_step_and_the_limit_of_small_kT():
    e = np.array([-1.0, -1e-9, 0.0, 1e-9, 1.0])
    np.testing.assert_array_equal(fermi(e, 0.0, 0.0), [1, 1, 0.5, 0, 0])
    np.testing.assert_array_equal(fermi(e[[0, 1, 3, 4]], 0.0, 1e-12), [1, 1, 0, 0])


def test_fermi_functions_do_not_overflow_far_from_mu(strict_floats):
    """|E − μ|/kT up to 1e9: saturated values, no overflow warning."""
    e = np.array([-1e3, -50.0, 50.0, 1e3])
    kT = 1e-6
    np.testing.assert_array_equal(fermi(e, 0.0, kT), [1, 1, 0, 0])
    slope = fermi_slope(e, 0.0, kT)
    assert np.all(np.isfinite(slope)) and np.all(slope >= 0) and slope.max() < 1e-290
    np.testing.assert_allclose(fermi_integral(-e, kT), np.maximum(-e, 0), rtol=1e-15, atol=0)


@pytest.mark.parametrize("kT", [0.01, 0.2])
def test_fermi_slope_is_minus_the_derivative(kT):
    e = np.linspace(-10 * kT, 10 * kT, 41) + 0.3
    f = fermi(e, 0.3, kT)
    np.testing.assert_allclose(fermi_slope(e, 0.3, kT), f * (1 - f) / kT, rtol=1e-11,
                               atol=1e-14 / kT)
    h = 1e-6 * kT
    numeric = -(fermi(e + h, 0.3, kT) - fermi(e - h, 0.3, kT)) / (2 * h)
    np.testing.assert_allclose(fermi_slope(e, 0.3, kT), numeric, rtol=1e-6, atol=1e-9 / kT)
    total, _ = integrate.quad(lambda x: float(fermi_slope(x, 0.3, kT)), 0.3 - 60 * kT,
                              0.3 + 60 * kT, points=[0.3], epsabs=1e-13)
    assert total == pytest.approx(1.0, rel=1e-11)


@pytest.mark.parametrize("mu_minus_e", [-0.3, -0.02, 0.0, 0.05, 0.4])
def test_fermi_integral_is_the_transverse_integral_of_f(mu_minus_e):
    """kT ln(1 + e^{(μ−E)/kT}) = ∫₀^∞ f(E + ε) dε, and its μ-derivative is f(E)."""
    kT, e, mu = 0.025, 1.0, 1.0 + mu_minus_e
    direct, _ = integrate.quad(lambda eps: float(fermi(e + eps, mu, kT)), 0, np.inf,
                               epsabs=1e-14, epsrel=1e-12)
    assert float(fermi_integral(mu_minus_e, kT)) == pytest.approx(direct, rel=1e-9, abs=1e-14)
    h = 1e-6
    slope = (fermi_integral(mu_minus_e + h, kT) - fermi_integral(mu_minus_e - h, kT)) / (2 * h)
    assert float(slope) == pytest.approx(float(fermi(e, mu, kT)), rel=1e-7, abs=1e-10)


def test_fermi_integral_at_zero_temperature_is_the_positive_part():
    x = np.array([-0.5, 0.0, 0.25])
    np.testing.assert_array_equal(fermi_integral(x, 0.0), [0.0, 0.0, 0.25])
    np.testing.assert_allclose(fermi_integral(x, 1e-9), [0.0, 1e-9 * math.log(2), 0.25],
                               rtol=1e-12, atol=1e-300)


def test_the_btm_model_uses_the_one_fermi_function():
    from mtj_kwant.analytic import btm

    for e, mu, kT in ((0.1, 0.0, 0.025), (-0.3, 0.0, 0.0), (0.0, 0.0, 0.0)):
        value = btm._fermi(e, mu, kT)
        assert isinstance(value, float) and value == float(fermi(e, mu, kT))


# ------------------------------------------------------------------------------------------
# torque geometry
# ------------------------------------------------------------------------------------------
def test_magnetization_direction_known_values():
    np.testing.assert_allclose(magnetization_direction(0.0), [0, 0, 1], atol=1e-16)
    np.testing.assert_allclose(magnetization_direction(math.pi / 2), [1, 0, 0], atol=1e-16)
    np.testing.assert_allclose(magnetization_direction(math.pi / 2, math.pi / 2), [0, 1, 0],
                               atol=1e-16)
    rng = np.random.default_rng(7)
    for theta, phi in rng.uniform(0, 2 * math.pi, (10, 2)):
        assert np.linalg.norm(magnetization_direction(theta, phi)) == pytest.approx(1, abs=1e-15)


def test_torque_axes_are_orthonormal_and_point_toward_p():
    rng = np.random.default_rng(11)
    for _ in range(20):
        m = magnetization_direction(*rng.uniform(0, 2 * math.pi, 2))
        p = magnetization_direction(*rng.uniform(0, 2 * math.pi, 2))
        e_par, e_perp = torque_axes(m, p)
        np.testing.assert_allclose([e_par @ e_par, e_perp @ e_perp, e_par @ e_perp, e_par @ m,
                                    e_perp @ m, e_perp @ p], [1, 1, 0, 0, 0, 0], atol=1e-12)
        assert e_par @ p > 0  # T∥ > 0 pushes m toward p
        np.testing.assert_allclose(np.cross(m, e_par), e_perp, atol=1e-12)  # right-handed


def test_torque_components_of_known_vectors():
    """T = a m×(p×m) + b m×p has T∥ = a sin θ, T⊥ = b sin θ (DESIGN.md §1)."""
    rng = np.random.default_rng(3)
    p = np.array([0.0, 0.0, 1.0])
    for theta, phi, a, b in rng.uniform(0.1, 3.0, (10, 4)):
        m = magnetization_direction(theta, phi)
        torque = a * np.cross(m, np.cross(p, m)) + b * np.cross(m, p)
        t_par, t_perp = torque_components(torque, m, p)
        assert t_par == pytest.approx(a * math.sin(theta), rel=1e-12)
        assert t_perp == pytest.approx(b * math.sin(theta), rel=1e-12)
        assert np.allclose(torque_components(m, m, p), 0, atol=1e-15)  # T ∥ m: no component
    m = magnetization_direction(math.pi / 2)  # m = x, p = z: e∥ = z, e⊥ = x × z = −y
    t_par, t_perp = torque_components([[0, 0, 2.0], [0, -3.0, 0], [1.0, 0, 0]], m, p)
    np.testing.assert_allclose(t_par, [2, 0, 0], atol=1e-15)
    np.testing.assert_allclose(t_perp, [0, 3, 0], atol=1e-15)


@pytest.mark.parametrize("sign", [1, -1])
def test_collinear_magnetizations_have_no_torque_components(sign):
    p = np.array([0.0, 0.0, 1.0])
    assert torque_axes(sign * p, p) is None
    t_par, t_perp = torque_components(np.ones((4, 3)), sign * p, p)
    assert t_par.shape == t_perp.shape == (4,) and not t_par.any() and not t_perp.any()


def test_public_names_stay_where_users_import_them():
    import importlib

    model, scan, sweep = (importlib.import_module(f"mtj_kwant.{name}")
                          for name in ("model", "scan", "sweep"))
    assert model.magnetization_direction is physics.magnetization_direction
    assert mk.magnetization_direction is physics.magnetization_direction
    assert mk.torque_components is scan.torque_components is sweep.torque_components \
        is physics.torque_components


# ------------------------------------------------------------------------------------------
# layering: the physics room, the constants and the analytic models never import Kwant
# ------------------------------------------------------------------------------------------
def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((0, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node.level, node.module or ""


@pytest.mark.parametrize("name", ["physics.py", "units.py", "options.py", "results.py",
                                  "analytic/btm.py", "analytic/slonczewski.py",
                                  "analytic/diffusion.py", "analytic/inelastic.py",
                                  "analytic/fits.py"])
def test_physics_constants_and_analytic_models_import_no_kwant(name):
    allowed_local = {"physics", "units", "slonczewski", "fits", "runner", ""}
    for level, module in _imports(PACKAGE / name):
        assert not module.startswith("kwant"), (name, module)
        if level:  # relative: only the Kwant-free modules
            assert module.split(".")[-1] in allowed_local, (name, module)


def test_constants_come_from_units():
    from mtj_kwant.analytic import btm, slonczewski
    from mtj_kwant.units import E2_H, HBAR2_2ME

    assert slonczewski.HBAR2_OVER_2ME == HBAR2_2ME and slonczewski.CONDUCTANCE_QUANTUM == E2_H
    assert btm.BTM_PREFACTOR == pytest.approx(4 * math.pi**2 * E2_H, rel=1e-15)
    for name in ("analytic/btm.py", "analytic/slonczewski.py"):
        assert "0.0380998" not in (PACKAGE / name).read_text(encoding="utf-8")


def test_docstring_examples():
    assert doctest.testmod(physics, raise_on_error=False).failed == 0


def test_constants_are_codata_as_in_scipy():
    """units writes the CODATA constants out (no scipy.constants import at start-up); they
    equal scipy's (bit for bit with the CODATA 2022 of scipy 1.17; 1e-8 relative allows a
    later CODATA adjustment of m_e, μ0, γ_e, which move at the 1e-10 level)."""
    import scipy.constants as sc

    from mtj_kwant import units

    pairs = [(units._c.hbar, sc.hbar), (units._c.m_e, sc.m_e), (units._c.e, sc.e),
             (units._c.h, sc.h), (units._c.k, sc.k), (units._c.mu_0, sc.mu_0),
             (units.GAMMA_E, sc.physical_constants["electron gyromag. ratio"][0])]
    for ours, theirs in pairs:
        assert ours == pytest.approx(theirs, rel=1e-8)
