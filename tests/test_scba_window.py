"""The window part with elastic scattering (SCBA) integrated over energy and k∥ (issue 14).

The per-energy solver is checked against a dense implementation in tests/test_scba.py; here
the integrated route: dispatch from bias_point, the sum rule of Eq. (22) after integration,
the ballistic limit, collinear zeros, refusals, and the continuum extrapolation carrying the
new quantities.
"""

import numpy as np
import pytest

import mtj_kwant as mk
from mtj_kwant.continuum import lattice_point
from mtj_kwant.integrate import bias_point
from mtj_kwant.model import junction_with
from mtj_kwant.options import OptionsError
from mtj_kwant.scba import scattering_window

THETA = 0.5 * np.pi
STEP = 0.1  # nm: a coarse lattice, every check here holds on any lattice


@pytest.fixture(scope="module")
def dephased():
    js = mk.make_system(mk.load_junction("fifn_dephasing").at_spacing(STEP))
    return js, bias_point(js, theta=THETA, phi=0.2, bias=0.1, rtol=1e-4)


def test_dispatch_and_sum_rule(dephased):
    """bias_point runs the SCBA route for a junction with scattering; after integration
    J_in − J_out = T (Eq. 22, exchange torque) + spin-flip loss, within the errors (the sum
    rule holds per site and node to round-off, test_scba.py); T ⟂ m; the spin flip removes the
    longitudinal spin current (the loss along m is the spin current's longitudinal part)."""
    js, r = dephased
    assert r.scba is not None and r.converged
    diff, loss, tq = r.spin_current_difference, r.spin_flip_loss, r.torque
    err = (r.errors["spin_current_difference"] + r.errors["spin_flip_loss"]
           + r.errors["torque"])
    assert np.all(np.abs(diff - tq - loss) <= err + 1e-9 * np.abs(diff).max())
    m = mk.magnetization_direction(THETA, 0.2)
    assert abs(tq @ m) <= 1e-9 * np.abs(tq).max()
    # the loss is not negligible with ħ/τ_sf = 0.01 eV: its longitudinal part is the spin
    # current along m that enters the free layer and does not leave it
    assert abs(loss @ m) > 100 * r.errors["spin_flip_loss"].max()
    assert abs(loss @ m - diff @ m) <= err.max()


def test_momentum_only_loses_no_spin():
    """Momentum relaxation conserves spin: the loss is reported as exactly 0, what the
    computation leaves (the self-consistency residual) goes into its error and the torque's,
    and T = J_in − J_out within the errors; the per-site loss of the profile likewise."""
    j = junction_with(mk.load_junction("fifn_dephasing"), {"layer[1].scattering.spin_flip": 0.0})
    js = mk.make_system(j.at_spacing(STEP))
    r = bias_point(js, theta=THETA, bias=0.1, rtol=1e-4, profile=True)
    scale = np.abs(r.torque).max()
    assert np.all(r.spin_flip_loss == 0.0)
    assert np.all(r.profile["spin_flip_loss"] == 0.0)
    assert r.errors["spin_flip_loss"].max() <= 1e-4 * scale  # within the tolerance (rtol)
    assert np.all(np.abs(r.spin_current_difference - r.torque)
                  <= r.errors["torque"] + r.errors["spin_current_difference"] + 1e-9 * scale)


def test_born_validity():
    """A rate that is not small against the layer's Fermi energy (measured from the minority
    band bottom: 2.62 − 1.93 = 0.69 eV in fifn_dephasing) is named; the file's rates are not."""
    from mtj_kwant.scba import BORN_LIMIT, born_validity

    base = mk.load_junction("fifn_dephasing")
    assert born_validity(base) == []
    big = junction_with(base, {"layer[1].scattering.momentum": 1.0})
    [(layer, rate, scale)] = born_validity(big)
    assert layer == 1 and rate == 1.0 and scale == pytest.approx(2.62 - 1.93)
    edge = junction_with(base, {"layer[1].scattering.momentum": 0.99 * BORN_LIMIT * 0.69})
    assert born_validity(edge) == []


def test_zero_strengths_equal_the_ballistic_route():
    """Strengths 0 through the SCBA route (its own adaptive k∥ grids, self-consistency
    skipped) equal the ballistic nested quadrature within the two routes' errors, on a
    junction without quantum-well resonances in the metal layer (a Fe-like layer between the
    barrier and the free electrode, matched bands)."""
    j = mk.load_junction("fe_mgo_fe")
    layers = list(j.layers) + [mk.Layer(kind="metal", thickness=0.5, exchange=3.86)]
    j = j.replace(layers=tuple(layers)).at_spacing(STEP)
    js = mk.make_system(j)
    n = js.chain.n_sites
    r = scattering_window(js, theta=THETA, bias=0.1, rtol=1e-5,
                          strengths=(np.zeros(n), np.zeros(n)))
    b = bias_point(js, theta=THETA, bias=0.1, rtol=1e-7, method="nested")
    assert abs(r.current_density - b.current_density) <= (
        r.errors["current_density"] + b.errors["current_density"])
    assert np.all(np.abs(r.torque - b.torque) <= r.errors["torque"] + b.errors["torque"])
    assert abs(r.current_density - b.current_density) <= 1e-5 * abs(b.current_density)


def test_collinear_torque_is_zero(dephased):
    js, _ = dephased
    r = bias_point(js, theta=0.0, bias=0.1, rtol=1e-3)
    assert r.collinear
    assert np.all(np.abs(r.torque) <= r.errors["torque"])


def test_refusals(dephased):
    js, _ = dephased
    with pytest.raises(OptionsError, match="parts must be 'window' for a junction with "
                                           "elastic scattering"):
        bias_point(js, theta=THETA, bias=0.1, parts="both")
    with pytest.raises(OptionsError, match="solver"):
        bias_point(js, theta=THETA, bias=0.1, solver="kwant")


@pytest.mark.slow
def test_continuum_extrapolation_carries_the_loss():
    """lattice_point extrapolates the spin-current difference and the loss with the rest
    (~1 min: three lattices)."""
    r = lattice_point(mk.load_junction("fifn_dephasing"), theta=THETA, bias=0.1, rtol=1e-3)
    assert r.converged and len(r.lattice_steps) >= 2
    assert set(r.lattice_errors) >= {"spin_current_difference", "spin_flip_loss"}
    err = (r.errors["spin_current_difference"] + r.errors["spin_flip_loss"]
           + r.errors["torque"])
    assert np.all(np.abs(r.spin_current_difference - r.torque - r.spin_flip_loss) <= err)


def test_cli_sweep_shows_the_loss_and_refuses_the_sea(tmp_path, capsys):
    """The command line: a scattering junction's sweep table has the loss column and says what
    T is; --parts both is refused in one line naming the option (exit status 1)."""
    from mtj_kwant.cli import main

    out = tmp_path / "s.json"
    code = main(["sweep", "fifn_dephasing", "--bias", "0.1", "--rtol", "1e-2",
                 "--workers", "serial", "--output", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and "loss along m" in text and "exchange torque (Eq. 22)" in text
    r = mk.load_result(out)
    assert r.spin_flip_loss_longitudinal_window[0] < 0  # spin along m lost in the free layer
    code = main(["sweep", "fifn_dephasing", "--bias", "0.1", "--parts", "both",
                 "--output", str(tmp_path / "t.json")])
    err = capsys.readouterr().err
    assert code == 1 and "parts must be 'window'" in err and "Traceback" not in err


def test_golden_rule_broadening_in_a_thick_layer():
    """End to end check of the rate convention (file rate → strength D = γ/a → Σ on the
    k∥ quadrature): in the middle of a 6 nm free layer with ħ/τ_m = 0.01 eV only, the
    self-consistent broadening per spin, Γ_σ = −2 Im Σ_σσ (m = ẑ), equals the golden-rule
    rate (ħ/τ_m) N_σ/N̄ of the bulk bands (analytic.relaxation, convention 2).  Measured at
    a = 0.025 nm: 0.01477 vs 0.01439 eV (majority), 0.00555 vs 0.00561 eV (minority); the
    tolerance, 5 %, covers the film's local density of states against the bulk one (quantum
    size and Friedel oscillations, averaged over the middle third) and the lattice's band."""
    from mtj_kwant.analytic.relaxation import free_electron_bands, scba_self_energy_strengths
    from mtj_kwant.scba import ScbaEnergy, pauli, transverse_grid
    from mtj_kwant.solvers import ChainSolver

    j = junction_with(mk.load_junction("fifn_dephasing"),
                      {"layer[1].thickness": 6.0, "layer[1].scattering.momentum": 0.01,
                       "layer[1].scattering.spin_flip": 0.0})
    js = mk.make_system(j.at_spacing(0.025))
    s = ChainSolver(js, theta=0.0, bias=0.0)
    d_m, d_s = scba_self_energy_strengths(js.junction, js.chain)
    g = transverse_grid(s, js.transverse, j.fermi_energy, width=0.005)
    se = ScbaEnergy(s, d_m, d_s, j.fermi_energy, g.eps, g.weights)
    free = np.flatnonzero(js.chain.free)
    mid = free[len(free) // 3: 2 * len(free) // 3]
    s0, sv = pauli(se.sigma[mid])
    bands = free_electron_bands(j.fermi_energy, 0.0, 3.86)
    nbar = 0.5 * (bands.dos_up + bands.dos_down)
    for sign, dos in ((+1, bands.dos_up), (-1, bands.dos_down)):
        gamma = float(np.mean(-2 * (s0 + sign * sv[:, 2]).imag))
        assert gamma == pytest.approx(0.01 * dos / nbar, rel=0.05)
