"""Linear-response conductances, TMR and their honest limits (half-metals, band edges).

The package's G is dJ/dV at V = 0 exactly (the occupation weight −∂f/∂E); the
independent routes are the central difference of the integrated current
(error O(δV²)) and the exact continuum transmission at E_F
(tests/continuum_exact.py).
"""

import math
import warnings

import numpy as np
import pytest

import mtj_kwant as mk
from mtj_kwant.integrate import bias_point
from mtj_kwant.sweep import ConductanceResult, tmr_ratio

from .conftest import SYSTEMS, fif
from .continuum_exact import exact_linear_response


def fe_like(exchange, barrier=1.0):
    return mk.Junction(fermi_energy=2.62,
                       left=mk.Electrode(potential=0, exchange=exchange, magnetization=(0, 0, 1)),
                       layers=[mk.Layer(kind="barrier", thickness=barrier, potential=3.62)],
                       right=mk.Electrode(potential=0, exchange=exchange, free=True))


@pytest.mark.parametrize("path, temperature", [
    ("fe_mgo_fe.toml", 0.0), ("fe_mgo_fe.toml", 300.0), ("cofeb_mgo_cofeb.toml", 0.0),
    ("tb_fif.toml", 0.0)])
def test_linear_response_equals_the_limit_of_the_central_difference(path, temperature):
    """dJ/dV and dT/dV at V = 0 against [X(δV) − X(−δV)]/2δV at δV = 0.1 mV.

    The difference is O(δV²) relative, ~1e-8 here (measured ≤ 5e-7 at 1 mV, where
    it is 100× larger), plus both quadratures at rtol 1e-9: bound 1e-6.
    """
    junction = mk.load_junction(SYSTEMS / path)
    if junction.model == "free-electron":
        junction = junction.at_spacing(0.025)  # one lattice: the two routes on the same model
    jsys = mk.make_system(junction)
    kw = dict(theta=math.pi / 2, temperature=temperature, rtol=1e-9)
    lin = bias_point(jsys, bias=0.0, linear_response=True, **kw)
    dv = 1e-4
    rp, rm = (bias_point(jsys, bias=s * dv, **kw) for s in (1, -1))
    g = (rp.current_density - rm.current_density) / (2 * dv)
    tk = (rp.torque - rm.torque) / (2 * dv)
    assert lin.current_density == pytest.approx(g, rel=1e-6)
    scale = np.abs(tk).max()
    assert np.all(np.abs(lin.torque - tk) <= 1e-6 * scale)


def test_linear_response_needs_zero_bias_and_the_window():
    jsys = mk.make_system(fif())
    with pytest.raises(ValueError, match="linear_response needs bias=0"):
        bias_point(jsys, theta=1.0, bias=0.1, linear_response=True)
    with pytest.raises(ValueError, match="linear_response needs bias=0"):
        bias_point(jsys, theta=1.0, bias=0.0, linear_response=True, parts="both")


def test_half_metal_antiparallel_conductance_is_zero_and_the_tmr_a_bound():
    """Minority band bottom 0.38 eV above E_F in both electrodes: no AP channel at E_F.

    G_AP is 0 within its error (it used to come out as −2.5e-9 S/m² with budget
    warnings and a TMR of −5.8e17); the TMR is inf with a lower bound; no warning.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = mk.conductance(fe_like(6.0))
    assert isinstance(c, ConductanceResult)
    assert abs(c.G_AP) <= c.errors["G_AP"]
    # the error is the round-off floor of the kernels (a coherent bound, integrate.ROUNDOFF:
    # measured 1.8e-3 S/m², 1.2e-12 of G_P), above GAP_FLOOR * rtol * G_P = 1e-14 G_P
    assert c.errors["G_AP"] <= 1e-11 * c.G_P
    assert c.TMR == math.inf and c.TMR_lower_bound > 1e11  # G_P over the round-off floor
    assert "zero within its error" in c.message and c.success
    ex = exact_linear_response(fe_like(6.0), 0.0, rtol=1e-8)["conductance"]
    assert c.G_P == pytest.approx(ex, rel=1e-5)


def test_band_edge_at_the_fermi_energy_gives_the_true_linear_response():
    """Minority band bottom exactly at E_F (Δ/2 = E_F): G_AP(V → 0) = 0, the TMR a bound.

    At E_F the minority channel has k = 0, so the antiparallel transmission
    vanishes: the exact continuum route gives G_AP = 6e-24 S/m² (4e-33 of G_P,
    i.e. zero; measured once, 35 s, so not repeated here).  The former
    [J(δV) − J(−δV)]/2δV at δV = 1 mV picked up the band opening inside the
    window and reported a TMR of 10 822.
    """
    j = fe_like(2 * 2.62)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = mk.conductance(j)
    ex = exact_linear_response(j, 0.0, rtol=1e-8)["conductance"]
    assert c.G_P == pytest.approx(ex, rel=1e-5)
    assert abs(c.G_P - ex) <= c.errors["G_P"]
    assert abs(c.G_AP) <= c.errors["G_AP"] <= 1e-11 * c.G_P  # the round-off floor, as above
    assert c.TMR == math.inf and c.TMR_lower_bound > 1e11  # G_P over the round-off floor


def test_tmr_ratio_and_its_error():
    tmr, err, bound, status = tmr_ratio(2.0, 0.02, 1.0, 0.01)
    assert tmr == pytest.approx(1.0) and err == pytest.approx(2 * (0.01 + 0.01))
    assert bound is None and status == "ok"
    tmr, err, bound, status = tmr_ratio(2.0, 0.0, 1e-12, 1e-9)
    assert tmr == math.inf and bound == pytest.approx(2.0 / (1e-12 + 1e-9) - 1)
    assert math.isnan(err)


def test_conductance_result_saves_strict_json_and_reloads(tmp_path):
    c = mk.conductance(fe_like(6.0))
    path = c.save(tmp_path / "g.json")
    text = path.read_text()
    assert "Infinity" not in text and "NaN" not in text
    again = ConductanceResult.load(path)
    assert again.TMR == math.inf and again.G_P == c.G_P and again.G_AP == c.G_AP
    assert again.message == c.message and again.TMR_lower_bound == c.TMR_lower_bound
