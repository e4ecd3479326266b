"""Junction descriptions: immutable, validated data (no Kwant here).

A :class:`Junction` is a semi-infinite left (pinned) electrode, a stack of
:class:`Layer` objects and a semi-infinite right electrode, as in DESIGN.md §2.
Junctions are loaded from TOML files with :func:`load_junction` or built in
Python; both routes go through the same validation.  :meth:`Junction.chain`
discretises a junction into a :class:`Chain` of sites (DESIGN.md §3), the
pure-data description from which :mod:`mtj_kwant.system` builds the Kwant
system.

Units: energies in eV, lengths in nm (thickness in monolayers for the
tight-binding model), temperature in K, masses in units of the electron mass.
"""

from __future__ import annotations

import copy
import difflib
import importlib.resources
import math
import numbers
import re
import tomllib
import warnings
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Callable, Union

import numpy as np

from .physics import magnetization_direction  # noqa: F401 (public here too)
from .units import HBAR2_2ME

__all__ = [
    "JunctionError",
    "JunctionWarning",
    "Electrode",
    "Layer",
    "Scattering",
    "Disorder",
    "Supercell",
    "Junction",
    "Chain",
    "load_junction",
    "magnetization_direction",
]

MODELS = ("free-electron", "tight-binding")
KINDS = ("barrier", "metal")

#: Relative deviation of the discretised band from the parabola above which a
#: warning is given (DESIGN.md §2: "about 1 %").
BAND_DEVIATION_WARN = 0.01

#: Folder of the junction files bundled with the package (package data, DESIGN.md §2).
BUNDLED_DIR = Path(str(importlib.resources.files("mtj_kwant") / "systems"))


def bundled_junctions():
    """Names of the junction files bundled with the package (``fe_mgo_fe``, ...)."""
    return sorted(p.stem for p in BUNDLED_DIR.glob("*.toml"))


def junction_path(name):
    """The file of a junction given by path or by the name of a bundled junction.

    A bare name (one path component) that names a bundled junction, with or without
    ``.toml`` (``"fe_mgo_fe"``, ``"fe_mgo_fe.toml"``), is the bundled file, unless it is
    written as a path (``./fe_mgo_fe.toml``); a bare ``.toml`` name of an existing file
    is that file.  Anything else is returned as a path.

    Warns
    -----
    JunctionWarning
        A bare name without suffix that is both a bundled junction and a file here: the
        bundled one is used (write ``./name`` for the local file).

    Raises
    ------
    JunctionError
        A bare name that is neither a file nor a bundled junction (the message lists them).
    """
    text = str(name)
    path = Path(name)
    bare = len(path.parts) == 1 and not text.startswith(".")
    if not bare:
        return path
    stem = path.stem if path.suffix == ".toml" else path.name
    bundled = BUNDLED_DIR / f"{stem}.toml"
    if path.suffix == ".toml" and path.is_file():
        return path
    if bundled.is_file() and path.suffix in ("", ".toml"):
        local = path if path.is_file() else Path(f"{text}.toml") if not path.suffix else None
        if local is not None and local.is_file():  # a copy here, perhaps edited
            warnings.warn(f"{text}: the bundled junction {stem!r} is used, not the file "
                          f"{local} here; write ./{local} for that file", JunctionWarning,
                          stacklevel=3)
        return bundled
    if path.suffix not in ("", ".toml") or path.exists():
        return path
    names = bundled_junctions()
    close = difflib.get_close_matches(stem, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise JunctionError(f"{text}: no such junction file or bundled junction; {hint}bundled: "
                        f"{', '.join(names)}")


class JunctionError(ValueError):
    """A junction description is invalid.

    The message names the offending key (``layer[2].thickness``) and the fix;
    :func:`load_junction` prefixes the file name.
    """


class JunctionWarning(UserWarning):
    """A junction is valid but probably not what was meant."""


def _fail(key, message):
    raise JunctionError(f"{key}: {message}")


def _other_model(model, this):
    """The message for a key that belongs to the other model (same wording for both)."""
    return f'only for model = "{model}"; remove it (this junction has model = "{this}")'


def _number(key, value, *, positive=False, nonnegative=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        _fail(key, f"expected a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        _fail(key, f"must be a finite number, got {value!r}")
    if positive and value <= 0:
        _fail(key, f"must be positive, got {value!r}")
    if nonnegative and value < 0:
        _fail(key, f"must be >= 0, got {value!r}")
    return value


def _unit_vector(key, value):
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 3:
        _fail(key, f"expected a list of three numbers [x, y, z], got {value!r}")
    vec = np.array([_number(f"{key}[{i}]", v) for i, v in enumerate(value)])
    norm = np.linalg.norm(vec)
    if norm == 0:
        _fail(key, "the zero vector has no direction; give e.g. [0, 0, 1]")
    return tuple(float(v) for v in vec / norm)


PotentialSpec = Union[float, tuple, Callable[[np.ndarray], np.ndarray]]

#: Per-element keys of the tight-binding model (DESIGN.md §3).
TB_ELEMENT_KEYS = ("hopping", "interface_hopping")


def _validate_hoppings(element, key):
    """Check the optional tight-binding hoppings of a layer or electrode (positive, eV)."""
    for name in TB_ELEMENT_KEYS:
        value = getattr(element, name)
        if value is not None:
            object.__setattr__(element, name, _number(f"{key}.{name}", value, positive=True))


#: Keys of a layer's ``[layer.scattering]`` table (DESIGN.md §8).
SCATTERING_KEYS = ("momentum", "spin_flip")


@dataclass(frozen=True)
class Scattering:
    """Elastic scattering of a metal layer, as rates ħ/τ in eV (DESIGN.md §8).

    The ``[layer.scattering]`` table of a junction file.  The rates are those at the
    layer's Fermi energy; :func:`mtj_kwant.analytic.relaxation.scba_self_energy_strengths`
    turns them into the strengths of the site-local SCBA self-energies.

    Parameters
    ----------
    momentum : float
        ħ/τ_m >= 0 (eV), the spin-averaged rate of isotropic momentum (and phase)
        relaxation: Σ_jj = D G_jj.
    spin_flip : float
        ħ/τ_sf >= 0 (eV), the rate at which a spin accumulation relaxes:
        Σ_jj = D_s Σ_α σ_α G_jj σ_α.

    Raises
    ------
    JunctionError
        A rate that is not a finite number >= 0.
    """

    momentum: float = 0.0
    spin_flip: float = 0.0

    def __post_init__(self):
        self._validate("scattering")

    def _validate(self, key):
        for name in SCATTERING_KEYS:
            object.__setattr__(self, name,
                               _number(f"{key}.{name}", getattr(self, name), nonnegative=True))

    @property
    def active(self):
        """True when a rate is nonzero."""
        return self.momentum > 0 or self.spin_flip > 0

    def to_dict(self):
        """``{"momentum": ..., "spin_flip": ...}`` (the file's table)."""
        return {name: getattr(self, name) for name in SCATTERING_KEYS}


def _scattering(key, value):
    """A validated :class:`Scattering` from a table (dict) or an instance; ``key`` names it."""
    return _table(Scattering, SCATTERING_KEYS, key, value, "layer.scattering",
                  note=" (rates ħ/τ in eV)")


#: Keys of a layer's ``[layer.disorder]`` table (DESIGN.md §9).
DISORDER_KEYS = ("onsite", "interface_mixing", "magnetic_tilt")


@dataclass(frozen=True)
class Disorder:
    """Lateral disorder of a tight-binding layer in a supercell (DESIGN.md §9).

    The ``[layer.disorder]`` table of a junction file; used by the three-dimensional
    supercells of :mod:`mtj_kwant.supercell` (a layered junction ignores it).

    Parameters
    ----------
    onsite : float
        Anderson box width W >= 0 (eV): each site's onsite energy gets a uniform random
        number in [−W/2, W/2].
    interface_mixing : float
        Probability in [0, 1] that a site of the layer's first monolayer takes the material
        (onsite energy, exchange, magnetization) of its left neighbour: interface roughness.
    magnetic_tilt : float
        Largest random tilt (degrees, in [0, 180]) of the local magnetization of the layer's
        magnetic sites, uniform on the spherical cap, random azimuth.

    Raises
    ------
    JunctionError
        A value out of its range.
    """

    onsite: float = 0.0
    interface_mixing: float = 0.0
    magnetic_tilt: float = 0.0

    def __post_init__(self):
        self._validate("disorder")

    def _validate(self, key):
        object.__setattr__(self, "onsite", _number(f"{key}.onsite", self.onsite,
                                                   nonnegative=True))
        p = _number(f"{key}.interface_mixing", self.interface_mixing, nonnegative=True)
        if p > 1:
            _fail(f"{key}.interface_mixing", f"is a probability, must be in [0, 1], got {p!r}")
        object.__setattr__(self, "interface_mixing", p)
        tilt = _number(f"{key}.magnetic_tilt", self.magnetic_tilt, nonnegative=True)
        if tilt > 180:
            _fail(f"{key}.magnetic_tilt", f"must be in [0, 180] degrees, got {tilt!r}")
        object.__setattr__(self, "magnetic_tilt", tilt)

    @property
    def active(self):
        """True when some disorder is nonzero."""
        return self.onsite > 0 or self.interface_mixing > 0 or self.magnetic_tilt > 0

    def to_dict(self):
        """The file's table."""
        return {name: getattr(self, name) for name in DISORDER_KEYS}


#: Keys of the ``[supercell]`` table (DESIGN.md §9).
SUPERCELL_KEYS = ("size", "k_points", "configurations", "seed")


def _positive_ints(key, value, n=2, names="[L_y, L_z]", minimum=1):
    if (isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != n
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                       for v in value)):
        _fail(key, f"expected {n} whole numbers {names}, got {value!r}")
    if any(v < minimum for v in value):
        _fail(key, f"must be >= {minimum}, got {list(value)!r}")
    return tuple(int(v) for v in value)


def _whole(key, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(key, f"expected a whole number, got {type(value).__name__} {value!r}")
    if value < minimum:
        _fail(key, f"must be >= {minimum}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Supercell:
    """A lateral L_y × L_z supercell of a tight-binding junction (DESIGN.md §9).

    The ``[supercell]`` table of a junction file: the scattering region is made periodic in
    y and z (``kwant.wraparound``) and sampled on a grid of the supercell's Brillouin zone;
    disorder (``[layer.disorder]``) is averaged over configurations with seeds ``seed``,
    ``seed + 1``, … (:mod:`mtj_kwant.supercell`).

    Parameters
    ----------
    size : (int, int)
        L_y, L_z in sites, >= 1.
    k_points : "adaptive" or (int, int)
        The supercell Brillouin-zone integration: ``"adaptive"`` (default; adaptive
        cubature to the requested tolerance, :func:`mtj_kwant.supercell.zone_average`) or
        a fixed Monkhorst–Pack grid, even numbers >= 2 each (its error is estimated from
        the half grid).
    configurations : int
        Disorder realisations, >= 1.
    seed : int
        Seed of the first realisation, >= 0.

    Raises
    ------
    JunctionError
        A value out of its range.
    """

    size: tuple = (1, 1)
    k_points: object = "adaptive"
    configurations: int = 1
    seed: int = 1

    def __post_init__(self):
        self._validate("supercell")

    def _validate(self, key):
        object.__setattr__(self, "size", _positive_ints(f"{key}.size", self.size))
        if not (isinstance(self.k_points, str) and self.k_points == "adaptive"):
            if isinstance(self.k_points, str):
                _fail(f"{key}.k_points", f'expected "adaptive" or two even numbers of '
                                         f"points, got {self.k_points!r}")
            grid = _positive_ints(f"{key}.k_points", self.k_points,
                                  names='[n_y, n_z] (even) or "adaptive"', minimum=2)
            if any(n % 2 for n in grid):
                _fail(f"{key}.k_points", f"must be even numbers (the k-grid error "
                                         f'compares with half of them) or "adaptive", '
                                         f"got {list(grid)}")
            object.__setattr__(self, "k_points", grid)
        object.__setattr__(self, "configurations",
                           _whole(f"{key}.configurations", self.configurations, 1))
        object.__setattr__(self, "seed", _whole(f"{key}.seed", self.seed, 0))

    def to_dict(self):
        """The file's table (lists for the pairs)."""
        return {"size": list(self.size),
                "k_points": (self.k_points if isinstance(self.k_points, str)
                             else list(self.k_points)),
                "configurations": self.configurations, "seed": self.seed}


def _table(cls, keys, key, value, what, note=""):
    """A validated ``cls`` from a table (dict) or an instance; ``key`` names it, ``note``
    follows the list of allowed keys in the message for an unknown one."""
    if isinstance(value, cls):
        value = value.to_dict()
    if not isinstance(value, dict):
        _fail(key, f"expected a table [{what}] with keys {', '.join(keys)}, "
                   f"got {type(value).__name__} {value!r}")
    for name in value:
        if name not in keys:
            close = difflib.get_close_matches(str(name), keys, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}? " if close else ""
            _fail(f"{key}.{name}", f"unknown key; {hint}allowed: {', '.join(keys)}{note}")
    obj = cls.__new__(cls)
    for name in keys:
        default = cls.__dataclass_fields__[name].default
        object.__setattr__(obj, name, value.get(name, default))
    obj._validate(key)
    return obj


@dataclass(frozen=True, kw_only=True)
class Electrode:
    """A semi-infinite electrode.

    Parameters
    ----------
    potential : float
        Spin-averaged band bottom (free electron) or onsite energy
        (tight binding), eV.
    exchange : float
        Exchange splitting Δ >= 0, eV; the term is −(Δ/2) m·σ.
    magnetization : tuple of 3 floats, optional
        Direction (normalised here).  Required for the left electrode; for a
        non-free right electrode it defaults to the left one's.  Not allowed on
        the free electrode, whose direction is set by θ, φ at run time.
    effective_mass : float, optional
        Effective mass in units of m_e (free electron); default: the
        junction's.
    free : bool
        True for the semi-infinite free electrode of an F/I/F junction.
    hopping : float, optional
        Nearest-neighbour hopping t > 0 of the electrode, in-plane and
        out-of-plane, eV (tight binding only); default: the junction's
        ``hopping``.
    interface_hopping : float, optional
        Hopping > 0 (eV) of the bond between the last layer and the right
        electrode (tight binding only; not allowed on the left electrode,
        which has no left neighbour).  Default: the geometric mean
        √(t_layer t_electrode) of the two neighbours' hoppings.
    """

    potential: float
    exchange: float = 0.0
    magnetization: tuple | None = None
    effective_mass: float | None = None
    free: bool = False
    hopping: float | None = None
    interface_hopping: float | None = None

    def _validate(self, key):
        object.__setattr__(self, "potential", _number(f"{key}.potential", self.potential))
        object.__setattr__(
            self, "exchange", _number(f"{key}.exchange", self.exchange, nonnegative=True)
        )
        if self.effective_mass is not None:
            object.__setattr__(
                self,
                "effective_mass",
                _number(f"{key}.effective_mass", self.effective_mass, positive=True),
            )
        _validate_hoppings(self, key)
        if not isinstance(self.free, bool):
            _fail(f"{key}.free", f"expected true or false, got {self.free!r}")
        if self.magnetization is not None:
            if self.free:
                _fail(
                    f"{key}.magnetization",
                    "the free element's direction is set by theta/phi at run time; "
                    "remove this key",
                )
            object.__setattr__(
                self, "magnetization", _unit_vector(f"{key}.magnetization", self.magnetization)
            )


@dataclass(frozen=True, kw_only=True)
class Layer:
    """One layer of the scattering region.

    Parameters
    ----------
    kind : {"barrier", "metal"}
        Barrier layers form the stack across which the bias drops.
    thickness : float
        nm (free electron) or whole monolayers (tight binding).
    potential : float, (float, float) or callable
        Band bottom / onsite energy in eV.  A pair gives a linear
        (trapezoidal) profile from the left to the right edge of the layer.  A
        callable ``f(x)`` receives the site positions x in nm measured from the
        layer's left edge (NumPy array) and returns energies in eV.
    exchange : float
        Δ >= 0 in eV.
    effective_mass : float, optional
        Mass in units of m_e (free electron); default: the junction's.
    free : bool
        True for the free layer of an F/I/F/N junction.
    magnetization : tuple of 3 floats, optional
        Direction of a magnetic layer that is not free; default: the left
        electrode's.  Not allowed on the free layer.
    hopping : float, optional
        Nearest-neighbour hopping t > 0 inside the layer, in-plane and
        out-of-plane, eV (tight binding only); default: the junction's
        ``hopping``.
    interface_hopping : float, optional
        Hopping > 0 (eV) of the bond between this layer and its left
        neighbour (the previous layer or the left electrode; tight binding
        only).  Default: the geometric mean √(t_left t_right) of the two
        neighbours' hoppings.
    disorder : Disorder or dict, optional
        Lateral disorder in a supercell (DESIGN.md §9; tight binding only; a dict
        ``{"onsite": ..., "interface_mixing": ..., "magnetic_tilt": ...}`` is converted).
    scattering : Scattering or dict, optional
        Elastic scattering rates ħ/τ_m, ħ/τ_sf in eV (DESIGN.md §8; a dict
        ``{"momentum": ..., "spin_flip": ...}`` is converted).  Metal layers
        only, and only with a constant ``potential`` (the rates are defined for
        the layer's bulk bands at the Fermi energy).  ``None``: no scattering.
    """

    kind: str
    thickness: float
    potential: PotentialSpec = 0.0
    exchange: float = 0.0
    effective_mass: float | None = None
    free: bool = False
    magnetization: tuple | None = None
    hopping: float | None = None
    interface_hopping: float | None = None
    scattering: Scattering | None = None
    disorder: Disorder | None = None

    def _validate(self, key):
        if self.kind not in KINDS:
            _fail(f"{key}.kind", f"must be one of {', '.join(map(repr, KINDS))}, got {self.kind!r}")
        object.__setattr__(
            self, "thickness", _number(f"{key}.thickness", self.thickness, positive=True)
        )
        pot = self.potential
        if callable(pot):
            pass
        elif isinstance(pot, (list, tuple)):
            if len(pot) != 2:
                _fail(
                    f"{key}.potential",
                    f"give one number or [left_edge, right_edge], got {list(pot)!r}",
                )
            pot = tuple(_number(f"{key}.potential[{i}]", v) for i, v in enumerate(pot))
        else:
            pot = _number(f"{key}.potential", pot)
        object.__setattr__(self, "potential", pot)
        object.__setattr__(
            self, "exchange", _number(f"{key}.exchange", self.exchange, nonnegative=True)
        )
        if self.effective_mass is not None:
            object.__setattr__(
                self,
                "effective_mass",
                _number(f"{key}.effective_mass", self.effective_mass, positive=True),
            )
        _validate_hoppings(self, key)
        if not isinstance(self.free, bool):
            _fail(f"{key}.free", f"expected true or false, got {self.free!r}")
        if self.magnetization is not None:
            if self.free:
                _fail(
                    f"{key}.magnetization",
                    "the free layer's direction is set by theta/phi at run time; remove this key",
                )
            object.__setattr__(
                self, "magnetization", _unit_vector(f"{key}.magnetization", self.magnetization)
            )
        if self.scattering is not None:
            if self.kind != "metal":
                _fail(f"{key}.scattering",
                      f"scattering is supported in metal layers only (this layer has kind = "
                      f"{self.kind!r}); remove the table")
            if callable(self.potential) or isinstance(self.potential, tuple):
                shown = "a function" if callable(self.potential) else list(self.potential)
                _fail(f"{key}.scattering",
                      f"a layer with scattering needs a constant potential (one number), got "
                      f"{shown}: the rates are defined for the layer's bulk bands at E_F")
            object.__setattr__(self, "scattering", _scattering(f"{key}.scattering",
                                                               self.scattering))
        if self.disorder is not None:
            object.__setattr__(self, "disorder", _table(Disorder, DISORDER_KEYS,
                                                        f"{key}.disorder", self.disorder,
                                                        "layer.disorder"))

    @property
    def potential_max(self):
        """Highest band bottom of the layer (eV) at its edges or constant."""
        if isinstance(self.potential, tuple):
            return max(self.potential)
        if callable(self.potential):
            return None
        return self.potential


@dataclass(frozen=True, kw_only=True)
class Junction:
    """A magnetic tunnel junction (DESIGN.md §2).

    Parameters
    ----------
    fermi_energy : float
        E_F in eV, on the same reference as the potentials.
    left, right : Electrode
        Semi-infinite electrodes; ``left`` is the pinned layer (direction p).
    layers : sequence of Layer
        The scattering region, left to right.  At least one barrier.
    model : {"free-electron", "tight-binding"}
    name : str
    temperature : float
        Default temperature of runs in K.
    effective_mass : float, optional
        Default mass (free electron), units of m_e; 1 if not given.  Not
        allowed for the tight-binding model (stays None there).
    lattice_spacing : float or "auto", optional
        Discretisation step a along x in nm (free electron).  ``None`` or
        ``"auto"`` (default): the continuum model; runs pick nested lattices
        and extrapolate to a → 0 (:mod:`mtj_kwant.continuum`, DESIGN.md §3),
        and :attr:`step` is the coarsest of them for energies near E_F.  A
        number: that lattice is computed as given, and its discretisation
        error is estimated and reported beside the quadrature error.
    hopping : float
        Nearest-neighbour hopping t in eV (tight binding): the default of
        every layer and electrode (each may set its own ``hopping`` and
        ``interface_hopping``, the latter defaulting to the geometric mean
        √(t_left t_right) of the two neighbours), and the t of the transverse
        variable ε∥ = −2t(cos k_y a + cos k_z a).
    lattice_constant : float
        Cubic lattice constant in nm (tight binding).
    supercell : Supercell or dict, optional
        A lateral supercell with k-sampling and disorder configurations (DESIGN.md §9;
        tight binding only).
    source : str, optional
        File the junction was loaded from (for messages).

    Exactly one element (a layer or the right electrode) is free.
    """

    fermi_energy: float
    left: Electrode
    layers: tuple
    right: Electrode
    model: str = "free-electron"
    name: str = "junction"
    temperature: float = 0.0
    effective_mass: float | None = None
    lattice_spacing: float | None = None
    hopping: float | None = None
    lattice_constant: float | None = None
    supercell: Supercell | None = None
    source: str | None = field(default=None, compare=False)

    def __post_init__(self):
        if self.model not in MODELS:
            _fail("model", f"must be one of {', '.join(map(repr, MODELS))}, got {self.model!r}")
        if not isinstance(self.name, str):
            _fail("name", f"expected a string, got {self.name!r}")
        object.__setattr__(self, "fermi_energy", _number("fermi_energy", self.fermi_energy))
        object.__setattr__(
            self, "temperature", _number("temperature", self.temperature, nonnegative=True)
        )
        if self.model == "free-electron":
            mass = 1.0 if self.effective_mass is None else self.effective_mass
            object.__setattr__(self, "effective_mass",
                               _number("effective_mass", mass, positive=True))
        elif self.effective_mass is not None:
            _fail("effective_mass", _other_model("free-electron", self.model))
        for key, value in (("left", self.left), ("right", self.right)):
            if not isinstance(value, Electrode):
                _fail(key, f"expected an Electrode, got {type(value).__name__}")
        if isinstance(self.layers, Layer) or not hasattr(self.layers, "__iter__"):
            _fail("layer", "give a list of layers")
        object.__setattr__(self, "layers", tuple(self.layers))
        if not self.layers:
            _fail("layer", "at least one [[layer]] (a barrier) is needed")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                _fail(f"layer[{i}]", f"expected a Layer, got {type(layer).__name__}")

        if self.left.free is True:
            _fail("left.free", "the left electrode is the pinned layer and cannot be free")
        self.left._validate("left")
        self.right._validate("right")
        if self.left.magnetization is None:
            _fail("left.magnetization", "missing; give the pinned direction p, e.g. [0, 0, 1]")
        for i, layer in enumerate(self.layers):
            layer._validate(f"layer[{i}]")
            if layer.kind == "barrier" and layer.free:
                _fail(f"layer[{i}].free", "a barrier cannot be the free layer")
            if layer.disorder is not None and self.model != "tight-binding":
                _fail(f"layer[{i}].disorder", "lateral disorder needs a three-dimensional "
                      "tight-binding supercell (DESIGN.md §9): use model = \"tight-binding\"")
        if self.supercell is None and any(lay.disorder is not None for lay in self.layers):
            i = next(i for i, lay in enumerate(self.layers) if lay.disorder is not None)
            _fail(f"layer[{i}].disorder", "needs a [supercell] table (a layered junction is "
                  "laterally perfect and cannot be disordered; DESIGN.md §9)")
        if self.supercell is not None:
            if self.model != "tight-binding":
                _fail("supercell", "a supercell needs model = \"tight-binding\" "
                      "(DESIGN.md §9)")
            object.__setattr__(self, "supercell", _table(Supercell, SUPERCELL_KEYS,
                                                         "supercell", self.supercell,
                                                         "supercell"))

        free = [f"layer[{i}]" for i, lay in enumerate(self.layers) if lay.free]
        if self.right.free:
            free.append("right")
        if not free:
            _fail(
                "free",
                "no free element; set free = true on the free [[layer]] or on [right]",
            )
        if len(free) > 1:
            _fail("free", f"exactly one free element allowed, found {', '.join(free)}")
        if not any(lay.kind == "barrier" for lay in self.layers):
            _fail("layer", 'at least one layer with kind = "barrier" is needed')
        free_idx = self.free_index
        if free_idx != "right" and any(
            lay.kind == "barrier" for lay in self.layers[free_idx + 1 :]
        ):
            _fail(
                f"layer[{free_idx}].free",
                "the free layer must lie to the right of every barrier",
            )
        if self.model != "tight-binding":  # per-element hoppings (DESIGN.md §3)
            for key, el in self._elements():
                for name in TB_ELEMENT_KEYS:
                    if getattr(el, name) is not None:
                        _fail(f"{key}.{name}", _other_model("tight-binding", self.model))

        if self.model == "free-electron":
            for key in ("hopping", "lattice_constant"):
                if getattr(self, key) is not None:
                    _fail(key, _other_model("tight-binding", self.model))
            if self.lattice_spacing is None or (isinstance(self.lattice_spacing, str)
                                                and self.lattice_spacing.strip().lower() == "auto"):
                # continuum limit (DESIGN.md §3): the step is chosen at run time
                object.__setattr__(self, "lattice_spacing", None)
            elif isinstance(self.lattice_spacing, str):
                _fail("lattice_spacing",
                      f'give a step in nm or "auto" (the continuum limit), got {self.lattice_spacing!r}')
            else:
                object.__setattr__(
                    self,
                    "lattice_spacing",
                    _number("lattice_spacing", self.lattice_spacing, positive=True),
                )
            a = self.lattice_spacing if self.lattice_spacing is not None else self._default_spacing()
            for i, layer in enumerate(self.layers):
                n = layer.thickness / a
                if abs(n - round(n)) > 1e-6 * max(1.0, n):
                    fit = self._fitting_spacing(a)
                    hint = f"; lattice_spacing = {fit:g} would fit" if fit else ""
                    _fail(
                        f"layer[{i}].thickness",
                        f"{layer.thickness:g} nm is not a whole number of lattice steps "
                        f"(lattice_spacing = {a:g} nm){hint}",
                    )
        else:
            for key in ("hopping", "lattice_constant"):
                if getattr(self, key) is None:
                    _fail(key, 'missing; required for model = "tight-binding"')
                object.__setattr__(self, key, _number(key, getattr(self, key), positive=True))
            if self.lattice_spacing is not None:
                _fail("lattice_spacing", _other_model("free-electron", self.model))
            for i, layer in enumerate(self.layers):
                if layer.thickness != round(layer.thickness):
                    _fail(
                        f"layer[{i}].thickness",
                        f"{layer.thickness:g} is not a whole number of monolayers",
                    )
                if layer.effective_mass is not None:
                    _fail(f"layer[{i}].effective_mass", _other_model("free-electron", self.model))
            for key in ("left", "right"):
                if getattr(self, key).effective_mass is not None:
                    _fail(f"{key}.effective_mass", _other_model("free-electron", self.model))
            if self.left.interface_hopping is not None:
                _fail("left.interface_hopping",
                      "the left electrode has no left neighbour; give the bond between it and "
                      "the first layer as layer[0].interface_hopping")
        self._warn()

    # ------------------------------------------------------------------ helpers
    @property
    def free_index(self):
        """Index of the free layer, or ``"right"`` for a free right electrode."""
        if self.right.free:
            return "right"
        return next(i for i, lay in enumerate(self.layers) if lay.free)

    @property
    def has_scattering(self):
        """True when a layer has a nonzero scattering rate (DESIGN.md §8)."""
        return any(lay.scattering is not None and lay.scattering.active for lay in self.layers)

    @property
    def pinned_direction(self):
        """p, the unit magnetization of the left electrode (NumPy array)."""
        return np.array(self.left.magnetization)

    @property
    def step(self):
        """Lattice step along x in nm (free electron: a; tight binding: the lattice constant).

        For a continuum junction (``lattice_spacing`` None) the default step
        of :meth:`_default_spacing`, the one a plain :func:`make_system` uses.
        """
        if self.model != "free-electron":
            return self.lattice_constant
        return self.lattice_spacing if self.lattice_spacing is not None else self._default_spacing()

    @property
    def continuum(self):
        """True for a free-electron junction without a fixed lattice step (DESIGN.md §3)."""
        return self.model == "free-electron" and self.lattice_spacing is None

    def at_spacing(self, a):
        """A copy on the fixed lattice step ``a`` (nm), without construction warnings."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", JunctionWarning)
            return replace(self, lattice_spacing=float(a))

    def mass_of(self, element):
        """Effective mass (m_e) of a layer or electrode, falling back to the default."""
        m = element.effective_mass
        return self.effective_mass if m is None else m

    def _elements(self):
        """(key, element) of the left electrode, the layers and the right electrode."""
        return [("left", self.left), *((f"layer[{i}]", lay) for i, lay in enumerate(self.layers)),
                ("right", self.right)]

    def hopping_of(self, element):
        """Hopping t (eV) of a layer or electrode (tight binding), falling back to the default."""
        t = element.hopping
        return self.hopping if t is None else t

    def interface_hopping_of(self, left, right):
        """Hopping (eV) of the bond between two neighbouring elements (tight binding).

        ``right.interface_hopping`` if given, else the geometric mean
        √(t_left t_right) of the two elements' hoppings (DESIGN.md §3).
        """
        if right.interface_hopping is not None:
            return right.interface_hopping
        t_l, t_r = self.hopping_of(left), self.hopping_of(right)
        return t_l if t_l == t_r else math.sqrt(t_l * t_r)

    @property
    def transverse_separable(self):
        """True when the transverse energy enters every site with the same coefficient.

        Then the (E, k∥) integrand depends on E − ε∥ only and the k∥ integral
        reduces exactly to one weight (DESIGN.md §5).  Free electron: all
        layers and electrodes share one effective mass (E_x = E − ħ²k∥²/2m).
        Tight binding: all share one in-plane hopping t∥ (site j's in-plane
        dispersion is −2t_j(cos k_y a + cos k_z a)); interface hoppings do not
        matter, since they only couple neighbouring monolayers along x.
        """
        if self.model == "tight-binding":
            return len({self.hopping_of(e) for _, e in self._elements()}) == 1
        masses = {self.mass_of(e) for e in (self.left, self.right, *self.layers)}
        return len(masses) == 1

    def replace(self, **changes):
        """A validated copy with some fields changed (see :func:`dataclasses.replace`)."""
        return replace(self, **changes)

    def _band_bottoms(self):
        """Lowest spin-band bottoms (eV) of every element, ignoring bias."""
        out = []
        for el in (self.left, self.right, *self.layers):
            pot = el.potential
            if callable(pot):
                continue
            low = min(pot) if isinstance(pot, tuple) else pot
            out.append(low - el.exchange / 2)
        return out

    def _max_kinetic_energy(self, margin=0.5):
        """Largest longitudinal kinetic energy (eV) of electrons near E_F.

        ``margin`` (eV) allows for the bias window.
        """
        return self.fermi_energy + margin - min(self._band_bottoms())

    def _band_deviation(self, a):
        """Relative deviation (ka)²/12 of the discretised band at the top energy."""
        m_max = max(self.mass_of(e) for e in (self.left, self.right, *self.layers))
        k = math.sqrt(max(self._max_kinetic_energy(), 0.0) * m_max / HBAR2_2ME)
        return (k * a) ** 2 / 12

    _STEPS = (0.05, 0.04, 0.025, 0.02, 0.0125, 0.01, 0.008, 0.005, 0.004, 0.0025, 0.002, 0.001)

    def _divides(self, a):
        return all(
            abs(lay.thickness / a - round(lay.thickness / a)) <= 1e-6 * max(1.0, lay.thickness / a)
            for lay in self.layers
        )

    def _fitting_spacing(self, below):
        return next((a for a in self._STEPS if a <= below and self._divides(a)), None)

    def _default_spacing(self):
        for a in self._STEPS:
            if self._divides(a) and self._band_deviation(a) <= BAND_DEVIATION_WARN:
                return a
        fit = self._fitting_spacing(self._STEPS[0])
        if fit is None:
            _fail(
                "lattice_spacing",
                "no round step (0.001-0.05 nm) divides every thickness; give lattice_spacing",
            )
        return fit

    def _warn(self):
        where = f"{self.source}: " if self.source else ""
        for i, layer in enumerate(self.layers):
            top = layer.potential_max
            if top is not None and self.model == "tight-binding":
                top -= 6 * self.hopping_of(layer)  # band bottom of the simple cubic lattice
            if layer.kind == "barrier" and top is not None and top - layer.exchange / 2 <= self.fermi_energy:
                warnings.warn(
                    f"{where}layer[{i}]: barrier band bottom {top:g} eV lies below the Fermi energy "
                    f"{self.fermi_energy:g} eV; this is not a tunnel barrier",
                    JunctionWarning,
                    stacklevel=3,
                )
        if self.model == "free-electron" and self.lattice_spacing is not None:
            dev = self._band_deviation(self.lattice_spacing)
            if dev > BAND_DEVIATION_WARN:
                warnings.warn(
                    f"{where}lattice_spacing: the discretised band deviates from the parabola by "
                    f"{100 * dev:.1f} % at the highest energy used; use a smaller lattice_spacing",
                    JunctionWarning,
                    stacklevel=3,
                )

    # ------------------------------------------------------------ discretisation
    def chain(self, pad=2):
        """Discretise the junction into a :class:`Chain` (DESIGN.md §3).

        Parameters
        ----------
        pad : int or (int, int)
            Electrode sites kept inside the scattering region on each side (or
            on the left and on the right), so that every change of mass or
            exchange happens between two scattering-region sites.
        """
        return Chain.from_junction(self, pad=pad)


@dataclass(frozen=True, kw_only=True)
class Chain:
    """Site-resolved description of a discretised junction (pure data).

    All arrays run over the N scattering-region sites, left to right, including
    ``pad`` electrode sites at each end (``pad`` = (left, right): that many on
    each side).  The per-site Hamiltonian block is::

        onsite_j = onsite0_j + bias * bias_profile_j + eps_par * transverse_j
                   - (delta_j / 2) m_j · σ

    and the hopping from site j to j+1 is ``-hopping_j`` times the identity.
    m_j is ``magnetization_j`` on fixed sites and (θ, φ) on free sites.

    Attributes
    ----------
    x : ndarray, shape (N,)
        Site positions in nm, x_j = (j + ½) a from the left edge of the first
        layer.
    onsite0 : ndarray (N,)
        Spin-independent onsite energy at zero bias and zero transverse energy
        (eV).  Free electron: t_{j−½} + t_{j+½} + U_j; tight binding: ε_j.
    hopping : ndarray (N − 1,)
        t_{j,j+1} in eV (positive; the matrix element is −t).
    transverse : ndarray (N,)
        Coefficient of the transverse energy parameter eps_par on each site:
        m_e/m_j (free electron, eps_par = ħ²k∥²/2m_e) or t_j/t (tight binding,
        eps_par = ε∥ = −2t(cos k_y a + cos k_z a) with t the junction's
        ``hopping`` and t_j the in-plane hopping of site j's element).
    bias_profile : ndarray (N,)
        Electrostatic energy per volt of bias (eV/V): +½ left of the barrier
        stack, −½ right of it, linear inside (DESIGN.md §1, §3).
    delta : ndarray (N,)
        Exchange splitting Δ_j (eV).
    magnetization : ndarray (N, 3)
        Fixed directions (rows of free sites are ignored).
    free : ndarray of bool (N,)
        Sites whose direction is m(θ, φ) (the free layer, or the pad sites of
        a free right electrode).
    leads : tuple of dict
        Left and right electrodes: onsite0, hopping, transverse, bias_profile,
        delta, magnetization, free.
    step : float
        Lattice step (nm).
    free_bonds : (int or None, int or None)
        Indices of the bonds (j, j+1) where spin current enters and leaves the
        free element.  ``None`` for "leaves" when the free element is the
        semi-infinite right electrode.
    layer_index : ndarray of int (N,)
        Element of each site: −1 the left electrode, i the layer i,
        ``len(layers)`` the right electrode.
    momentum_rate, spin_flip_rate : ndarray (N,)
        Elastic scattering rates ħ/τ_m, ħ/τ_sf (eV) of each site's layer
        (DESIGN.md §8); zero on electrode (pad) sites and in layers without
        scattering.  Default (not given): zeros.  The SCBA strengths per site
        are :func:`mtj_kwant.analytic.relaxation.scba_self_energy_strengths`.
    """

    x: np.ndarray
    onsite0: np.ndarray
    hopping: np.ndarray
    transverse: np.ndarray
    bias_profile: np.ndarray
    delta: np.ndarray
    magnetization: np.ndarray
    free: np.ndarray
    leads: tuple
    step: float
    model: str
    free_bonds: tuple
    layer_index: np.ndarray
    momentum_rate: np.ndarray | None = None
    spin_flip_rate: np.ndarray | None = None

    def __post_init__(self):
        for name in ("momentum_rate", "spin_flip_rate"):
            value = getattr(self, name)
            value = (np.zeros(len(self.x)) if value is None
                     else np.asarray(value, dtype=float).copy())
            if value.shape != (len(self.x),):
                raise ValueError(f"Chain.{name} must have shape ({len(self.x)},) (one rate per "
                                 f"site), got {value.shape}")
            object.__setattr__(self, name, value)

    @property
    def has_scattering(self):
        """True when a site has a nonzero scattering rate."""
        return bool(np.any(self.momentum_rate > 0) or np.any(self.spin_flip_rate > 0))

    @property
    def n_sites(self):
        return len(self.x)

    @classmethod
    def from_junction(cls, junction, pad=2):
        j = junction
        fe = j.model == "free-electron"
        a = j.step
        p = np.array(j.left.magnetization)
        pad_left, pad = (int(pad), int(pad)) if np.ndim(pad) == 0 else (int(pad[0]), int(pad[1]))
        if min(pad_left, pad) < 1:
            raise ValueError("pad must be >= 1")

        # Per-site raw properties: potential, mass, delta, magnetization, free flag.
        U, mass, delta, mags, free, layer_index, xs = [], [], [], [], [], [], []
        rate_m, rate_s = [], []

        def add_electrode(el, positions, idx):
            for x in positions:
                xs.append(x)
                U.append(el.potential)
                mass.append(j.mass_of(el) if fe else 1.0)
                delta.append(el.exchange)
                mags.append(el.magnetization or tuple(p))
                free.append(el.free)
                layer_index.append(idx)
                rate_m.append(0.0)  # electrodes are ballistic (DESIGN.md §8: layers only)
                rate_s.append(0.0)

        add_electrode(j.left, [(i + 0.5) * a for i in range(-pad_left, 0)], -1)
        x0 = 0.0
        stack = []
        for i, layer in enumerate(j.layers):
            n = int(round(layer.thickness if not fe else layer.thickness / a))
            local = (np.arange(n) + 0.5) * a
            layer_nm = n * a
            pot = layer.potential
            if callable(pot):
                values = np.asarray(pot(local), dtype=float)
                values = np.broadcast_to(values, local.shape)
                if not np.all(np.isfinite(values)):
                    _fail(f"layer[{i}].potential", "the potential function returned NaN or inf")
            elif isinstance(pot, tuple):
                values = pot[0] + (pot[1] - pot[0]) * local / layer_nm
            else:
                values = np.full(n, pot)
            if layer.kind == "barrier":
                stack.append((len(xs), len(xs) + n, x0, x0 + layer_nm))
            for k in range(n):
                xs.append(x0 + local[k])
                U.append(float(values[k]))
                mass.append(j.mass_of(layer) if fe else 1.0)
                delta.append(layer.exchange)
                mags.append(layer.magnetization or tuple(p))
                free.append(layer.free)
                layer_index.append(i)
                sc = layer.scattering
                rate_m.append(sc.momentum if sc is not None else 0.0)
                rate_s.append(sc.spin_flip if sc is not None else 0.0)
            x0 += layer_nm
        add_electrode(j.right, [x0 + (i + 0.5) * a for i in range(pad)], len(j.layers))

        xs = np.array(xs)
        U = np.array(U)
        mass = np.array(mass)
        n_sites = len(xs)

        # Bias profile (DESIGN.md §1 and §3).
        first, last = stack[0][0], stack[-1][1]
        bias_profile = np.where(np.arange(n_sites) < first, 0.5, -0.5)
        if fe:
            xa, xb = stack[0][2], stack[-1][3]
            inside = slice(first, last)
            bias_profile[inside] = 0.5 - (xs[inside] - xa) / (xb - xa)
        else:
            n_stack = last - first
            bias_profile[first:last] = 0.5 - np.arange(1, n_stack + 1) / (n_stack + 1)

        if fe:
            # BenDaniel-Duke bond with the arithmetic mean of the masses: the mass step
            # sits at the bond midpoint, where continuity of ψ and ψ'/m gives
            # ψ_{j+1} − ψ_j = (a/2)(m_j + m_{j+1}) ψ'/m, the second-order rule (DESIGN.md §3).
            m_bond = 0.5 * (mass[:-1] + mass[1:])
            hop = HBAR2_2ME / (m_bond * a * a)
            t_left = HBAR2_2ME / (j.mass_of(j.left) * a * a)
            t_right = HBAR2_2ME / (j.mass_of(j.right) * a * a)
            hop_ext = np.concatenate([[t_left], hop, [t_right]])
            onsite0 = U + hop_ext[:-1] + hop_ext[1:]
            transverse = 1.0 / mass
        else:
            # Per-element hoppings (DESIGN.md §3): t_e inside element e (in-plane and along
            # x), the right element's interface_hopping (default √(t_left t_right)) on the
            # bond between two elements.  Site j's in-plane dispersion −2t_j(cos + cos) is
            # (t_j/t) eps_par with eps_par = −2t(cos k_y a + cos k_z a), t the junction's.
            elements = [j.left, *j.layers, j.right]
            owner = [elements[k + 1] for k in layer_index]  # layer_index −1: left electrode
            t_site = np.array([j.hopping_of(el) for el in owner])
            hop = np.array([t_site[k] if layer_index[k] == layer_index[k + 1]
                            else j.interface_hopping_of(owner[k], owner[k + 1])
                            for k in range(n_sites - 1)], dtype=float)
            onsite0 = U.copy()
            transverse = t_site / j.hopping

        def lead(el, sign):
            m = j.mass_of(el) if fe else 1.0
            t = HBAR2_2ME / (m * a * a) if fe else j.hopping_of(el)
            return dict(
                onsite0=el.potential + (2 * t if fe else 0.0),
                hopping=t,
                transverse=1.0 / m if fe else t / j.hopping,
                bias_profile=0.5 * sign,
                delta=el.exchange,
                magnetization=np.array(el.magnetization or tuple(p)),
                free=el.free,
                potential=el.potential,
            )

        free_arr = np.array(free)
        free_sites = np.flatnonzero(free_arr)
        fi = j.free_index
        if fi == "right":
            bond_in = n_sites - pad - 1
            bond_out = None
        else:
            bond_in = free_sites[0] - 1
            bond_out = free_sites[-1]
        return cls(
            x=xs,
            onsite0=onsite0,
            hopping=hop,
            transverse=transverse,
            bias_profile=bias_profile,
            delta=np.array(delta),
            magnetization=np.array(mags),
            free=free_arr,
            leads=(lead(j.left, +1), lead(j.right, -1)),
            step=a,
            model=j.model,
            free_bonds=(int(bond_in), None if bond_out is None else int(bond_out)),
            layer_index=np.array(layer_index),
            momentum_rate=np.array(rate_m, dtype=float),
            spin_flip_rate=np.array(rate_s, dtype=float),
        )

    @property
    def bond_x(self):
        """Bond midpoints (nm)."""
        return 0.5 * (self.x[:-1] + self.x[1:])

    def free_torque_sites(self):
        """Sites whose exchange torque is the torque on the free element.

        The free layer's sites, or (free right electrode) none: the torque on a
        semi-infinite free electrode is the spin current entering it.
        """
        bond_in, bond_out = self.free_bonds
        if bond_out is None:
            return np.arange(0)
        return np.arange(bond_in + 1, bond_out + 1)


# ---------------------------------------------------------------- TOML loading
_TOP_KEYS = {
    "name": str,
    "model": str,
    "fermi_energy": "number",
    "temperature": "number",
    "effective_mass": "number",
    "lattice_spacing": "number",
    "hopping": "number",
    "lattice_constant": "number",
    "supercell": dict,
    "left": dict,
    "right": dict,
    "layer": list,
}
_ELECTRODE_KEYS = ("potential", "exchange", "magnetization", "effective_mass", "free",
                   *TB_ELEMENT_KEYS)
_LAYER_KEYS = ("kind", "thickness", "potential", "exchange", "effective_mass", "free",
               "magnetization", *TB_ELEMENT_KEYS, "scattering", "disorder")


def _check_keys(table, allowed, where, required=()):
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(allowed)}"
            _fail(f"{where}{key}", f"unknown key{hint}")
    for key in required:
        if key not in table:
            _fail(f"{where}{key}", "missing (required)")


def _from_tables(data, source=None):
    _check_keys(data, tuple(_TOP_KEYS), "", required=("fermi_energy", "left", "right", "layer"))
    for key, typ in _TOP_KEYS.items():
        if key in data:
            value = data[key]
            if typ is dict and not isinstance(value, dict):
                _fail(key, f"must be a table [{key}]")
            if typ is list and not (
                isinstance(value, list) and all(isinstance(v, dict) for v in value)
            ):
                _fail(key, "must be an array of tables [[layer]]")
            if typ is str and not isinstance(value, str):
                _fail(key, f"expected a string, got {value!r}")
    electrodes = {}
    for side in ("left", "right"):
        table = data[side]
        if "disorder" in table:
            _fail(f"{side}.disorder", "disorder is supported in layers only; the electrodes "
                  "are clean (give a thin [[layer]] of the electrode's material instead)")
        if "scattering" in table:
            _fail(f"{side}.scattering",
                  "scattering is supported in metal layers only, not in the semi-infinite "
                  'electrodes; give a scattering cap as a finite [[layer]] kind = "metal" '
                  f"next to [{side}]")
        _check_keys(table, _ELECTRODE_KEYS, f"{side}.", required=("potential",))
        electrodes[side] = Electrode(**table)
    layers = []
    for i, table in enumerate(data["layer"]):
        _check_keys(table, _LAYER_KEYS, f"layer[{i}].", required=("kind", "thickness", "potential"))
        if isinstance(table["potential"], list):
            table = dict(table, potential=tuple(table["potential"]))
        layers.append(Layer(**table))
    top = {k: v for k, v in data.items() if k not in ("left", "right", "layer")}
    return Junction(**top, left=electrodes["left"], right=electrodes["right"], layers=layers,
                    source=source)


def load_junction(path):
    """Load and validate a junction file (TOML, DESIGN.md §2).

    Parameters
    ----------
    path : str or Path
        A file, or the name of a bundled junction (``"fe_mgo_fe"``, see
        :func:`bundled_junctions`).

    Returns
    -------
    Junction

    Raises
    ------
    JunctionError
        For a missing file, a TOML syntax error or any invalid value; the
        message starts with the file name and names the key and the fix.

    Notes
    -----
    The file is read as UTF-8; a leading UTF-8 byte-order mark is ignored.
    """
    path = junction_path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise JunctionError(f"{path}: no such junction file") from None
    except (IsADirectoryError, PermissionError) as err:
        raise JunctionError(f"{path}: cannot read the junction file ({err})") from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise JunctionError(f"{path}: the file is UTF-16 text; TOML files are UTF-8: save it "
                            "as UTF-8") from None
    try:
        text = raw.decode("utf-8-sig")  # drops a UTF-8 byte-order mark (some editors write one)
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise JunctionError(f"{path}: line {line}: not UTF-8 text (byte {raw[err.start]:#04x}); "
                            "TOML files are UTF-8: save it as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise JunctionError(f"{path}: TOML syntax error: {err}") from None
    try:
        return _from_tables(data, source=str(path))
    except JunctionError as err:
        raise JunctionError(f"{path}: {err}") from None
    except TypeError as err:  # e.g. a layer given as a value instead of a table
        raise JunctionError(f"{path}: {err}") from None


def junction_to_dict(junction):
    """The junction as plain TOML-like tables (for result metadata).

    Callable potentials are written as their ``repr``; a layer's
    :class:`Scattering` as its table ``{"momentum": ..., "spin_flip": ...}``
    (left out when the layer has none).
    """
    def conv(value):
        if isinstance(value, (Scattering, Disorder, Supercell)):
            return value.to_dict()
        if callable(value):
            return repr(value)
        if isinstance(value, tuple):
            return list(value)
        return value

    out = {}
    for f in fields(junction):
        if f.name in ("left", "right", "layers", "source"):
            continue
        value = getattr(junction, f.name)
        if value is not None:
            out[f.name] = conv(value)
    for side in ("left", "right"):
        el = getattr(junction, side)
        out[side] = {f.name: conv(getattr(el, f.name)) for f in fields(el)
                     if getattr(el, f.name) is not None}
    out["layer"] = [
        {f.name: conv(getattr(lay, f.name)) for f in fields(lay) if getattr(lay, f.name) is not None}
        for lay in junction.layers
    ]
    return out


def junction_from_dict(data, source=None):
    """Build and validate a :class:`Junction` from TOML-like tables.

    The inverse of :func:`junction_to_dict` (for junctions without callable
    potentials) and what :func:`load_junction` does after parsing the file.

    Raises
    ------
    JunctionError
        Invalid or missing keys and values, as for a file.
    """
    data = copy.deepcopy(data)
    if data.get("model") == "tight-binding" and data.get("effective_mass") == 1.0:
        # Results saved before tight-binding files rejected effective_mass carry the old
        # default 1.0 in their junction tables; it never had a meaning there.
        del data["effective_mass"]
    try:
        return _from_tables(data, source=source)
    except TypeError as err:
        raise JunctionError(str(err)) from None


_PATH = re.compile(r"^(?:(left|right)\.(\w+)|layer\[(-?\d+)\]\.(\w+)(?:\.(\w+))?"
                   r"|supercell\.(\w+)|(\w+))$")


def junction_with(junction, changes):
    """A copy of a junction with some parameters changed.

    Parameters
    ----------
    junction : Junction
    changes : dict
        Parameter path -> new value, with the paths of the junction file
        (and of its error messages): ``"fermi_energy"``, ``"left.exchange"``,
        ``"right.potential"``, ``"layer[1].thickness"``,
        ``"layer[0].potential"`` (a number or ``[left_edge, right_edge]``),
        ``"layer[-1].exchange"``, ``"layer[1].scattering.momentum"`` (creates
        the layer's scattering table if it has none; the other rate is then 0).

    Returns
    -------
    Junction
        Validated like a file (a thickness must still fit the lattice step).

    Raises
    ------
    JunctionError
        Unknown path or invalid value; the message names the path.
    """
    data = junction_to_dict(junction)
    for path, value in changes.items():
        match = _PATH.match(str(path))
        if match is None:
            raise JunctionError(f"{path}: not a parameter path (use e.g. 'layer[1].thickness', "
                                "'left.exchange' or 'fermi_energy')")
        side, side_key, index, layer_key, sub_key, cell_key, top_key = match.groups()
        if isinstance(value, np.generic):
            value = value.item()
        if side:
            data[side][side_key] = value
        elif index is not None:
            i = int(index)
            if not -len(data["layer"]) <= i < len(data["layer"]):
                raise JunctionError(f"{path}: the junction has {len(data['layer'])} layers "
                                    f"(indices 0 to {len(data['layer']) - 1})")
            if sub_key is None:
                data["layer"][i][layer_key] = value
            elif layer_key in ("scattering", "disorder"):
                table = data["layer"][i].get(layer_key)
                table = dict(table) if isinstance(table, dict) else {}
                table[sub_key] = value
                data["layer"][i][layer_key] = table
            else:
                raise JunctionError(f"{path}: not a parameter path (only layer[i].scattering "
                                    "and layer[i].disorder have sub-keys, e.g. "
                                    "layer[i].scattering.momentum, layer[i].disorder.onsite)")
        elif cell_key is not None:
            table = data.get("supercell")
            table = dict(table) if isinstance(table, dict) else {}
            table[cell_key] = value
            data["supercell"] = table
        else:
            data[top_key] = value
    for table in [data, data["left"], data["right"], *data["layer"]]:
        for key, value in table.items():
            if isinstance(value, str) and value.startswith("<function"):
                raise JunctionError(f"{key}: a junction with a callable potential cannot be "
                                    "varied by path; build the Junction directly")
    return junction_from_dict(data, source=junction.source)
