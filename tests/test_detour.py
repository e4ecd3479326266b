"""Window integrals around states narrower than the real axis resolves (integrate._detours).

Where only the incoming electrode is open, its window is the spectral function of all states,
the boundary value of h(z) analytic above the axis, so the piece [c − r, c + r] around a narrow
state equals the integral of h along the upper semicircle (Cauchy).  Independent routes: the
real-axis quadrature with breakpoints where the states are resolved, and the semicircle's
radius, which must not matter.
"""

import numpy as np
import pytest

import mtj_kwant as mk
import mtj_kwant.integrate as integrate
from mtj_kwant.integrate import bias_point
from mtj_kwant.solvers import make_solver
from mtj_kwant.system import make_system

#: A free layer behind two barriers, below the right electrode's band bottom at E_x ≈ −1.67 eV:
#: a quantum-well state coupled to the left electrode alone, half width ~1e-21 eV (found by a
#: fresh-user review: the real-axis quadrature put 90 nodes within 1e-12 eV of it, on round-off
#: plateaus, and missed the state's weight; Kwant's scattering states missed it likewise).
DOUBLE_BARRIER = """
name = "double barrier, tilted fixed layer between barriers, free layer"
model = "free-electron"
fermi_energy = 2.62
[left]
potential = 0.0
exchange = 3.86
magnetization = [0, 0, 1]
[[layer]]
kind = "barrier"
thickness = 0.9
potential = 3.62
[[layer]]
kind = "metal"
thickness = 1.0
potential = 0.0
exchange = 2.0
magnetization = [0, 1, 0]
[[layer]]
kind = "barrier"
thickness = 0.7
potential = [3.9, 3.3]
[[layer]]
kind = "metal"
thickness = 1.2
potential = 0.0
exchange = 3.86
free = true
[right]
potential = 0.5
exchange = 3.86
magnetization = [1, 0, 1]
"""


def _point(js, rtol, **kw):
    r = bias_point(js, theta=np.pi / 2, bias=-0.2, rtol=rtol, **kw)
    return np.r_[r.current_density, r.torque], np.r_[r.errors["current_density"],
                                                     r.errors["torque"]], r


def test_detour_equals_the_resolved_real_axis_integral(monkeypatch):
    """fifn_2nm on the 0.025 nm lattice: its quantum-well states below the cap's band (half
    widths 5e-13 … 2e-10 eV) are resolved by breakpoints on the real axis, and taken along
    semicircles by default: J and T agree within the sum of the two error estimates."""
    js = make_system(mk.load_junction("fifn_2nm").at_spacing(0.025))
    solver = make_solver(js, theta=np.pi / 2, bias=-0.2)
    res = integrate.find_resonances(solver, solver.leads[0].bottom(), 2.7)
    assert len(integrate._detours(solver, res, np.array([-3.0, 3.0]), 0, 2.4)) >= 3
    detour, e1, _ = _point(js, 1e-6)
    monkeypatch.setattr(integrate, "DETOUR_RESOLUTION", 0.0)
    axis, e2, r = _point(js, 1e-6)
    assert r.converged
    assert np.all(np.abs(detour - axis) <= e1 + e2)


def test_a_state_narrower_than_round_off_counts_with_its_weight(tmp_path, monkeypatch):
    """The double barrier's 1e-21 eV state: found, taken along a semicircle, and the result
    does not depend on the radius (1 meV and 0.1 meV, within the errors); its weight makes
    T∥ 3e5 times what the real-axis quadrature gave (1.3e7 (ħ/2e) A/m²): a state filled by
    the left electrode alone (DESIGN §8's bound states in the window)."""
    path = tmp_path / "double.toml"
    path.write_text(DOUBLE_BARRIER)
    js = make_system(mk.load_junction(path).at_spacing(0.05))
    big, e1, r = _point(js, 1e-5)
    assert r.converged
    narrow = r.resonances[r.resonances[:, 1] < 1e-15]
    assert len(narrow) == 1 and abs(narrow[0, 0] + 1.6709) < 1e-3
    monkeypatch.setattr(integrate, "DETOUR_RADIUS", 1e-4)
    small, e2, _ = _point(js, 1e-5)
    assert np.all(np.abs(big - small) <= e1 + e2)
    assert abs(big[2]) > 1e11


@pytest.mark.parametrize("theta", [0.0, np.pi])
def test_detours_keep_collinear_torques_zero(tmp_path, theta):
    """Every magnet along z and θ = 0, π: the torque, detour included, is zero within its
    error."""
    path = tmp_path / "double.toml"
    path.write_text(DOUBLE_BARRIER.replace("[0, 1, 0]", "[0, 0, 1]").replace("[1, 0, 1]",
                                                                           "[0, 0, 1]"))
    js = make_system(mk.load_junction(path).at_spacing(0.05))
    r = bias_point(js, theta=theta, bias=-0.2, rtol=1e-4)
    assert len(r.resonances) and r.resonances[:, 1].min() < 1e-15
    assert np.all(np.abs(r.torque) <= r.errors["torque"])


def test_the_kwant_solver_says_it_cannot_take_the_detour(tmp_path):
    """Kwant's scattering states live on the real axis: the 1e-21 eV state is reported (one
    IntegrationWarning naming it) and the point is not converged, instead of a silent 1.2e7."""
    from mtj_kwant.quadrature import IntegrationWarning

    path = tmp_path / "double.toml"
    path.write_text(DOUBLE_BARRIER)
    js = make_system(mk.load_junction(path).at_spacing(0.05))
    with pytest.warns(IntegrationWarning, match="narrower than the real axis resolves"):
        r = bias_point(js, theta=np.pi / 2, bias=-0.2, rtol=1e-3, solver="kwant")
    assert not r.converged
