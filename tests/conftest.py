"""Shared fixtures: small junctions built in Python, reference files."""

from pathlib import Path

import numpy as np
import pytest

from mtj_kwant.model import Electrode, Junction, Layer

ROOT = Path(__file__).resolve().parents[1]
SYSTEMS = ROOT / "systems"
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
