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
