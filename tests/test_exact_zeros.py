"""Quantities that vanish exactly (DESIGN.md §3a): collinear torques.

For collinear magnetizations the spin along m is conserved, so the torque on
the free layer vanishes by symmetry; the kernels return round-off (θ = 180°
from degrees has sin θ = 1.2e-16).  Such a torque must not be resolved to
relative precision against its own vanishing size (θ = 0 at rtol 1e-6 used to
run 400 000 evaluations and report converged = false): it is reported with an
error that covers it, and the point converges on the quantities that are not
zero.
"""

import math
import warnings

import numpy as np
import pytest

import mtj_kwant as mk
from mtj_kwant.continuum import lattice_point

from .conftest import SYSTEMS


@pytest.mark.parametrize("theta_deg", [0.0, 180.0])
@pytest.mark.parametrize("bias", [0.0, 0.1])
def test_collinear_torques_converge_as_zero_within_their_error(theta_deg, bias):
    junction = mk.load_junction(SYSTEMS / "fifn_2nm.toml")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no budget or lattice warning
        r = lattice_point(junction, theta=math.radians(theta_deg), bias=bias, parts="both",
                          rtol=1e-6)
    assert r.converged and r.collinear
    assert r.n_eval < 50_000  # measured 13 065 (θ = 0 and 180°, 0.1 V); it was 400 000
    for key in ("torque", "torque_sea", "torque_total"):
        value, error = np.asarray(getattr(r, key)), np.asarray(r.errors[key])
        assert np.all(np.abs(value) <= error + 1e-300), key
        # round-off scale: at most 1e-9 of the current (measured 1e-10 at 0.1 V) or, at
        # V = 0, of the equilibrium torque scale b0 ~ 1e8 (measured 3e-8 absolute)
        assert np.all(error <= 1e-9 * max(abs(r.current_density), 1e8)), key


def test_collinear_sweep_reports_zero_components():
    s = mk.sweep(SYSTEMS / "fifn_2nm.toml", [0.1], theta=0.0, parts="both", rtol=1e-6,
                 progress=False, executor="serial")
    assert s.converged == [True]
    assert s.torque_inplane_total == [0.0] and s.torque_outofplane_total == [0.0]


@pytest.mark.parametrize("bias", [0.1, -0.1])
def test_half_metal_antiparallel_current_is_resolved_to_its_roundoff(bias):
    """A current that vanishes exactly: a half-metal in the antiparallel state.

    Electrodes with Δ = 6 eV, E_F = 2.62 eV: the minority band bottom lies 0.38 eV
    above E_F, so at |V| = 0.1 V no minority state exists in the window.  At θ = 180°
    spin along z is conserved and left majority electrons meet only right minority
    (evanescent) states: J = 0 exactly.  The kernels return round-off (8e-17 of the bond
    scale per point, measured); the point must converge with an error covering |J|, the
    round-off floor (integrate.ROUNDOFF, a coherent bound: measured 1.3e-12 of the
    parallel current), instead of chasing the round-off (it used to run the whole budget
    and report "not converged").
    """
    junction = mk.junction_with(mk.load_junction(SYSTEMS / "fe_mgo_fe.toml"),
                                {"left.exchange": 6.0, "right.exchange": 6.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ap = lattice_point(junction, theta=math.pi, bias=bias, rtol=1e-6)
        p = lattice_point(junction, theta=0.0, bias=bias, rtol=1e-6)
    assert ap.converged and p.converged
    assert abs(ap.current_density) <= ap.errors["current_density"]
    assert ap.errors["current_density"] <= 1e-11 * abs(p.current_density)
    assert ap.roundoff > 0 and ap.n_eval < 20_000
