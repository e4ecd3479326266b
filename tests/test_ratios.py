"""Honest ratios (DESIGN.md §3a): a denominator zero within its error gives inf/NaN, not 1e17.

The fault these tests pin down: G_AP = -2.5e-9 +- 1e-7 S/m^2 used to give TMR = -5.8e17;
the same division appears in every ratio the package reports (deviations relative to a
torque that vanishes, the BTM scale factor, decay lengths from decay rates, T_perp/T_par).
"""

import math

import pytest

from mtj_kwant.ratios import Ratio, ratio, resolved
from mtj_kwant.sweep import ConductanceResult, tmr_ratio


def test_resolved_ratio_propagates_the_errors_linearly():
    r = ratio(3.0, 0.03, -2.0, 0.04)
    assert r.ok and r.status == "ok" and r.bound is None
    assert r.value == pytest.approx(-1.5)
    assert r.error == pytest.approx(1.5 * (0.01 + 0.02))
    assert ratio(0.0, 0.1, 2.0, 0.1).error == pytest.approx(0.05)  # num = 0: δnum/|den|
    assert str(r) == r.text() and "+-" in r.text()


def test_denominator_zero_within_its_error_is_inf_with_a_bound_not_a_huge_number():
    # the fault of issue 11: G_AP = -2.5e-9 +- 1e-7 gave TMR = -5.8e17
    r = ratio(1.45e10, 1e5, -2.5e-9, 1e-7, name="G_P/G_AP", den_name="G_AP", den_sign=1)
    assert r.value == math.inf and not r.ok and math.isnan(r.error)
    assert r.bound == pytest.approx((1.45e10 - 1e5) / 1e-7)
    assert "G_AP" in r.status and "zero within its error" in r.status
    # sign of the denominator unknown: the magnitude is infinite, the value undefined
    r = ratio(5.0, 0.1, 1e-12, 1e-9, name="T_perp/T_par", den_name="T_par")
    assert math.isnan(r.value) and r.bound == pytest.approx(4.9 / (1e-12 + 1e-9))
    assert "sign of the denominator is unknown" in r.status
    # a resolved negative numerator with a known positive denominator: -inf
    assert ratio(-1.0, 0.0, 0.0, 0.0, den_sign=1).value == -math.inf


def test_zero_over_zero_is_undefined_without_a_bound():
    r = ratio(1e-9, 1e-6, -2e-9, 1e-6, name="max_rel", num_name="max |dev|",
              den_name="max |Kwant|")
    assert math.isnan(r.value) and r.bound is None and "0/0" in r.status
    assert r.text().startswith("undefined:")
    exact = ratio(0.0, 0.0, 0.0, 0.0)  # exact zeros (collinear torques) are 0/0 too
    assert math.isnan(exact.value) and "0/0" in exact.status


def test_a_denominator_of_the_wrong_sign_counts_as_zero():
    """A conductance (>= 0 by nature) found negative beyond its error is not a sign flip."""
    r = ratio(1.0, 0.0, -1e-3, 1e-6, den_sign=1)
    assert r.value == math.inf and r.bound == pytest.approx(1 / 1e-6)
    assert ratio(1.0, 0.0, -1e-3, 1e-6).value == pytest.approx(-1000)  # sign unknown: -1000


def test_unknown_errors_and_bad_arguments():
    r = ratio(3.0, 0.1, 2.0, float("nan"))
    assert r.value == 1.5 and math.isnan(r.error) and not r.ok and "unknown" in r.status
    assert not resolved(1.0, float("nan")) and resolved(1.0, 0.5) and not resolved(-0.5, 0.5)
    with pytest.raises(ValueError, match="error of the denominator must be >= 0"):
        ratio(1.0, 0.0, 1.0, -0.1)
    with pytest.raises(ValueError, match="den_sign"):
        ratio(1.0, 0.0, 1.0, 0.1, den_sign=2)
    assert isinstance(ratio(1, 0, 1, 0), Ratio) and float(ratio(1, 0, 4, 0)) == 0.25


def test_tmr_of_a_junction_without_any_channel_is_undefined_not_inf():
    """G_P and G_AP both zero within their errors (E_F below both bands): 0/0, no bound.

    It used to be reported as TMR = inf "at least -2".
    """
    tmr, err, bound, status = tmr_ratio(1e-12, 1e-9, 0.0, 1e-9)
    assert math.isnan(tmr) and math.isnan(err) and bound is None
    assert "both zero within their errors" in status
    c = ConductanceResult(G_P=1e-12, G_AP=0.0, TMR=tmr, errors={"G_P": 1e-9, "G_AP": 1e-9,
                                                                "TMR": err},
                          TMR_lower_bound=bound, status=status)
    assert c.summary()[-1].startswith("TMR  = undefined")


def test_undefined_tmr_survives_save_and_load(tmp_path):
    c = ConductanceResult(G_P=0.0, G_AP=0.0, TMR=math.nan, errors={"G_P": 1.0, "G_AP": 1.0,
                                                                   "TMR": math.nan},
                          status="both zero")
    back = ConductanceResult.load(c.save(tmp_path / "g.json"))
    assert math.isnan(back.TMR) and back.TMR_lower_bound is None
    inf = ConductanceResult(G_P=1.0, G_AP=0.0, TMR=math.inf, TMR_lower_bound=1e6,
                            errors={"G_P": 0.0, "G_AP": 1e-6, "TMR": math.nan})
    assert ConductanceResult.load(inf.save(tmp_path / "h.json")).TMR == math.inf


def test_relative_lattice_error_of_a_vanishing_list_is_not_1e280():
    """Studies' relative lattice errors: max |lattice error| / max |value| of each list; a
    list that is zero within its errors (torques at theta = 0) used to divide by 1e-300."""
    from types import SimpleNamespace

    from mtj_kwant.studies import _lattice

    result = SimpleNamespace(
        torque=[0.0, 1e-20, -1e-20], current_density=[-2.0, 0.0, 2.0],
        lattice_errors={"torque": [1e-22] * 3, "current_density": [1e-3] * 3},
        errors={"torque": [1e-18] * 3, "current_density": [1e-2] * 3},
        lattice_spacing_nm=[0.01, 0.01, 0.005])
    rel = _lattice.relative(result, ("torque", "current_density"))
    assert rel["torque"] == math.inf  # before: 1e-22 / 1e-20 = 0.01, or 1e278 for exact zeros
    assert rel["current_density"] == pytest.approx(5e-4)
    assert rel["finest_step_nm"] == 0.005
