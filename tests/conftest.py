"""Shared fixtures: small junctions built in Python, reference files."""

from pathlib import Path

import numpy as np
import pytest

from mtj_kwant.model import Electrode, Junction, Layer

ROOT = Path(__file__).resolve().parents[1]
SYSTEMS = ROOT / "mtj_kwant" / "systems"
REFERENCE = ROOT / "tests" / "reference"


def fifn(free_thickness=0.5, barrier=0.4, spacing=0.025, mass_barrier=None, **kw):
    """A small F/I/F/N junction (few sites, fast)."""
    return Junction(
        name="test F/I/F/N",
        fermi_energy=kw.pop("fermi_energy", 3.0),
        lattice_spacing=spacing,
        left=Electrode(potential=0.0, exchange=2.0, magnetization=(0, 0, 1)),
        layers=[
            Layer(kind="barrier", thickness=barrier, potential=4.0, effective_mass=mass_barrier),
            Layer(kind="metal", thickness=free_thickness, potential=0.0, exchange=2.0, free=True),
        ],
        right=Electrode(potential=0.0, exchange=0.0),
        **kw,
    )


def fif(barrier=0.5, spacing=0.025, potential=4.0, exchange=2.0, **kw):
    """A small F/I/F junction with a semi-infinite free electrode."""
    return Junction(
        name="test F/I/F",
        fermi_energy=kw.pop("fermi_energy", 3.0),
        lattice_spacing=spacing,
        left=Electrode(potential=0.0, exchange=exchange, magnetization=(0, 0, 1)),
        layers=[Layer(kind="barrier", thickness=barrier, potential=potential)],
        right=Electrode(potential=0.0, exchange=exchange, free=True),
        **kw,
    )


def random_junction(rng, model="free-electron"):
    """Random layers, masses, exchange and directions (for property tests)."""
    n_layers = rng.integers(1, 4)
    layers = []
    for i in range(n_layers):
        kind = "barrier" if i == 0 or rng.random() < 0.4 else "metal"
        pot = float(rng.uniform(3.5, 5.0)) if kind == "barrier" else float(rng.uniform(-0.5, 0.5))
        if kind == "barrier" and rng.random() < 0.5:
            pot = (pot, pot + float(rng.uniform(-0.5, 0.5)))
        layers.append(dict(kind=kind, potential=pot,
                           exchange=0.0 if kind == "barrier" else float(rng.uniform(0, 2.5)),
                           magnetization=tuple(rng.normal(size=3)) if kind == "metal" else None))
    free_right = rng.random() < 0.4 or layers[-1]["kind"] == "barrier"
    if not free_right:
        layers[-1]["free"] = True
        layers[-1]["magnetization"] = None
    if model == "free-electron":
        for lay in layers:
            lay["thickness"] = 0.025 * int(rng.integers(4, 16))
            lay["effective_mass"] = float(rng.uniform(0.4, 1.2))
        extra = dict(lattice_spacing=0.025, effective_mass=float(rng.uniform(0.6, 1.2)))
    else:
        for lay in layers:
            lay["thickness"] = int(rng.integers(1, 5))
        extra = dict(hopping=1.0, lattice_constant=0.3)
        for lay in layers:
            lay["potential"] = float(rng.uniform(4.2, 5.5)) if lay["kind"] == "barrier" else 0.0
    return Junction(
        name="random",
        model=model,
        fermi_energy=float(rng.uniform(2.0, 3.0)) if model == "free-electron" else -2.5,
        left=Electrode(potential=0.0, exchange=float(rng.uniform(0.5, 2.5)),
                       magnetization=tuple(rng.normal(size=3))),
        layers=[Layer(**{k: v for k, v in lay.items() if v is not None}) for lay in layers],
        right=Electrode(potential=float(rng.uniform(-0.3, 0.3)),
                        exchange=float(rng.uniform(0, 2.5)), free=bool(free_right)),
        **extra,
    )


@pytest.fixture
def rng():
    return np.random.default_rng(20261125)


def bound_state_term(jsys, theta, phi, bias):
    """Total-torque difference reference=0 − reference=1 due to bound states, (ħ/2e) A/m².

    A state below the band bottoms of both electrodes (at k∥ = 0; one effective mass, so
    the E_x reduction of DESIGN.md §5 applies) is occupied with f_R by reference 0
    (DESIGN.md §1) and with f_L by reference 1.  At T = 0 the E_x weights (μ − E)
    differ by −V, so the difference is −(m/2πħ²) V π Im R summed over the states, R
    the residue of h(z) at each, computed on a small circle (exponentially accurate
    trapezoid rule): a route independent of the package's integration.

    Returns ``(term, n)``: the 3-vector (zero without such a state, and at V = 0) and the
    number n of bound states found.
    """
    from mtj_kwant.integrate import _Layout, find_resonances
    from mtj_kwant.solvers import ChainSolver
    from mtj_kwant.units import E_OVER_H, HBAR2_2ME, PER_NM2

    assert jsys.junction.transverse_separable, "one effective mass (E_x reduction) only"
    cs = ChainSolver(jsys, theta=theta, phi=phi, bias=bias)
    bottom = min(lead.bands()[:, 0].min() for lead in cs.leads)
    bound = find_resonances(cs, cs.spectrum_bottom(), bottom)
    assert np.all(bound[:, 1] < 1e-12), bound  # bound: no width
    layout = _Layout(cs.chain, cs.site_magnetization, cs.m, False)
    n, radius = 64, 1e-4
    ring = radius * np.exp(2j * np.pi * np.arange(n) / n)
    pref = jsys.junction.effective_mass / (4 * np.pi * HBAR2_2ME)
    term = np.zeros(3)
    for energy in bound[:, 0]:
        h = layout.pack(*cs.bond_sea(energy + ring, np.zeros(n), layout.bonds))
        residue = (h * ring[:, None]).mean(0)  # (1/2πi)∮ h dz
        term += -pref * np.pi * residue.imag[1:4] * bias * E_OVER_H * PER_NM2
    return term, len(bound)
