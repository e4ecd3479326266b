"""Spin-transfer torques in magnetic tunnel junctions from quantum transport (Kwant).

The names a user needs first are lifted here::

    import mtj_kwant as mk
    junction = mk.load_junction("fe_mgo_fe")   # bundled; or a path to a .toml file
    result = mk.sweep(junction, [-0.2, 0.0, 0.2], parts="both")   # SweepResult
    prof = mk.profile(junction, 0.2)                                # ProfileResult
    table = mk.scan(junction, bias=[0.1], vary={"layer[1].thickness": [1.0, 2.0]})

Submodules: :mod:`~mtj_kwant.model` (junction data), :mod:`~mtj_kwant.system`
(Kwant builder), :mod:`~mtj_kwant.solvers` (Kwant and batched solvers, with the
compiled kernels of :mod:`~mtj_kwant._rgf`), :mod:`~mtj_kwant.integrate`
(energy / k∥ integration: window, Fermi sea, total), :mod:`~mtj_kwant.runner`
(parallel, resumable evaluation of points), :mod:`~mtj_kwant.scan` and
:mod:`~mtj_kwant.sweep` (scans, sweeps, profiles, conductances),
:mod:`~mtj_kwant.options` (their settings, validated once),
:mod:`~mtj_kwant.results` (one JSON format, provenance, status of every result),
:mod:`~mtj_kwant.physics` (Fermi function, torque geometry; no Kwant),
:mod:`~mtj_kwant.units` (constants),
:mod:`~mtj_kwant.comparison` (Kwant beside the analytic models),
:mod:`~mtj_kwant.study` (the studies of :mod:`mtj_kwant.studies`) and
:mod:`~mtj_kwant.analytic` (analytic models, no Kwant).
"""

__version__ = "0.1.0"

from .model import (  # noqa: E402
    Electrode,
    Junction,
    JunctionError,
    Layer,
    junction_from_dict,
    junction_with,
    bundled_junctions,
    load_junction,
)
from .physics import magnetization_direction  # noqa: E402
from .scan import ScanResult, scan  # noqa: E402
from .sweep import (  # noqa: E402
    ConductanceResult,
    ProfileResult,
    SweepResult,
    conductance,
    load_result,
    profile,
    sweep,
    torque_components,
)
from .system import make_system  # noqa: E402

__all__ = [
    "Electrode",
    "Junction",
    "JunctionError",
    "Layer",
    "bundled_junctions",
    "load_junction",
    "junction_from_dict",
    "junction_with",
    "scan",
    "ScanResult",
    "make_system",
    "sweep",
    "profile",
    "conductance",
    "ConductanceResult",
    "torque_components",
    "magnetization_direction",
    "SweepResult",
    "ProfileResult",
    "load_result",
]
