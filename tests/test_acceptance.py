"""Default-tolerance sweeps with --parts both against tightly converged ones (about 20 s).

The acceptance of the total-torque issue: on junctions outside the repository
(free electron with one and with per-layer masses, F/I/F and F/I/F/N with
quantum-well resonances, tight binding) `--parts both` at the default
tolerance must agree with an independent calculation within 0.5 % of each
value plus 0.2 % of the larger torque component.  The reference here is the
same package at rtol 1e-6 (1e-5 for tight binding), which the other tests tie
to independent routes; this test checks that the default tolerance and its
error estimates are honest on junctions nobody tuned for.
"""

import numpy as np
import pytest

import mtj_kwant as mk
from mtj_kwant.model import Electrode, Junction, Layer

from .conftest import random_junction

KEYS = ("torque_inplane_total", "torque_outofplane_total", "torque_inplane_window",
        "torque_outofplane_window")


def junctions():
    out = [
        Junction(name="per-layer masses, thin free layer under a cap", fermi_energy=2.5,
                 effective_mass=1.0, lattice_spacing=0.02,
                 left=Electrode(potential=0.0, exchange=3.0, magnetization=(0, 0, 1)),
                 layers=[Layer(kind="barrier", thickness=0.8, potential=3.6, exchange=0.0,
                               effective_mass=0.4),
                         Layer(kind="metal", thickness=1.2, potential=0.0, exchange=3.0,
                               free=True, effective_mass=0.9)],
                 right=Electrode(potential=-0.5, exchange=0.0)),
        Junction(name="tight-binding F/I/F/N", model="tight-binding", fermi_energy=-2.0,
                 hopping=1.0, lattice_constant=0.3,
                 left=Electrode(potential=0.0, exchange=1.5, magnetization=(0, 0, 1)),
                 layers=[Layer(kind="barrier", thickness=3, potential=4.5, exchange=0.0),
                         Layer(kind="metal", thickness=5, potential=0.0, exchange=1.5,
                               free=True)],
                 right=Electrode(potential=0.5, exchange=0.0)),
    ]
    rng = np.random.default_rng(11)
    out += [random_junction(rng, "free-electron" if k % 2 else "tight-binding")
            for k in range(6)]
    return out


@pytest.mark.parametrize("junction", junctions(), ids=lambda j: j.name[:20])
def test_default_tolerance_meets_the_acceptance_bound(junction):
    biases = [-0.3, 0.0, 0.25]
    kw = dict(theta=1.2, phi=0.3, parts="both", executor="serial", progress=False)
    fast = mk.sweep(junction, biases, **kw)
    tight = mk.sweep(junction, biases, rtol=1e-6 if junction.model == "free-electron" else 1e-5,
                     **kw)
    assert all(fast.converged) and all(tight.converged)
    for i in range(len(biases)):
        scale = max(abs(tight.torque_inplane_total[i]), abs(tight.torque_outofplane_total[i]))
        for key in KEYS:
            a, b = getattr(fast, key)[i], getattr(tight, key)[i]
            assert abs(a - b) <= 0.005 * abs(b) + 0.002 * scale, (key, biases[i])
            # and the error estimate covers the actual error (up to a factor 3)
            assert abs(a - b) <= 3 * fast.errors[key][i] + 1e-9 * scale, (key, biases[i])
        assert abs(fast.current_density[i] - tight.current_density[i]) <= (
            0.005 * abs(tight.current_density[i]) + 1e-12)
