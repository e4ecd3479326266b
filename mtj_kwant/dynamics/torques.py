r"""Torque models for the macrospin: T(x, θ) = a(x, θ) m×(p×m) + b(x, θ) m×p.

Every model gives the two coefficients a and b in (ħ/2e)·A/m² (DESIGN §1: the spin current
absorbed by the free layer per area) as functions of the drive x — a current density J in A/m²
(``drive = "current"``) or a bias V in volts (``drive = "voltage"``, DESIGN §1 sign: V > 0
drives electrons from the pinned into the free layer) — and of cos θ = m·p.  Since
|m×(p×m)| = |m×p| = sin θ, the package's torque components (which include sin θ) are
T∥ = a sin θ and T⊥ = b sin θ; T∥ > 0 pushes m toward p.  Each model also gives the charge
current density J(x, θ) in A/m² (NaN where it has none).

=====================  =======  ============================================================
model                  drive    a, b
=====================  =======  ============================================================
ConstantTorque         current  a = η∥ J,  b = b₀ + η⊥ J   (constant efficiencies)
SlonczewskiTorque      current  a = 2Jε(θ), b = −2Jε′,  ε = PΛ²/[(Λ²+1) + (Λ²−1)cos θ]
                                (the mumax3 / OOMMF / ubermag form)
PolynomialTorque       voltage  a = a₀ + a₁V + a₂V²,  b = b₀ + b₁V + b₂V²  (fits.py names,
                                coefficients of T/sin θ)
TabulatedTorque        voltage  T∥(V, θ), T⊥(V, θ), J(V, θ) of a scan, interpolated
=====================  =======  ============================================================
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field

import numpy as np
from numpy.polynomial import chebyshev as _cheb

from ._common import (DynamicsError, DynamicsWarning, check_keywords, finite_scalar,
                      strict_keywords)

__all__ = ["TorqueModel", "ConstantTorque", "SlonczewskiTorque", "PolynomialTorque",
           "TabulatedTorque", "SweepData", "sweep_data"]


class _Table:
    """q(x, c) = Σ_k T_k(c) Σ_i C[j, i, k] (x − xl[j])^i (see ``_kernels``)."""

    def __init__(self, xint, xl, C):
        self.xint = np.ascontiguousarray(xint, dtype=float)
        self.xl = np.ascontiguousarray(xl, dtype=float)
        self.C = np.ascontiguousarray(C, dtype=float)

    @classmethod
    def global_poly(cls, coeffs_by_power):
        """One interval anchored at x = 0; ``coeffs_by_power[i]`` is the Chebyshev-coefficient
        vector (in c) of the x^i term."""
        rows = [np.atleast_1d(np.asarray(r, float)) for r in coeffs_by_power]
        K = max(len(r) for r in rows)
        C = np.zeros((1, len(rows), K))
        for i, r in enumerate(rows):
            C[0, i, :len(r)] = r
        return cls(np.empty(0), np.zeros(1), C)

    def __call__(self, x, c):
        x, c = np.broadcast_arrays(np.asarray(x, float), np.clip(np.asarray(c, float), -1, 1))
        j = np.searchsorted(self.xint, x, side="right")
        s = x - self.xl[j]
        out = np.zeros(x.shape)
        D = self.C.shape[1]
        for k in range(self.C.shape[2]):
            poly = np.zeros(x.shape)
            for i in range(D - 1, -1, -1):
                poly = poly * s + self.C[j, i, k]
            tk = np.cos(k * np.arccos(c))
            out = out + poly * tk
        return out


def _cheb_coefficients(f, name):
    """Chebyshev coefficients of a smooth f(c) on [-1, 1] to 2e-14 of its largest one."""
    for deg in (8, 16, 32, 64, 128, 256):
        coef = _cheb.chebinterpolate(f, deg)
        scale = np.max(np.abs(coef)) or 1.0
        if np.max(np.abs(coef[-3:])) <= 2e-14 * scale:
            keep = np.nonzero(np.abs(coef) > 1e-17 * scale)[0]
            return coef[: (keep[-1] + 1 if keep.size else 1)]
    raise DynamicsError(
        f"{name}: the angular dependence is too sharp for a Chebyshev series of degree 256; "
        "use a Lambda closer to 1."
    )


class TorqueModel:
    """Base class: the coefficients a, b and the current J as functions of drive and angle.

    Subclasses define ``drive`` ("current" or "voltage") and ``_build()`` returning the three
    tables (a, b, J); ``drive_range`` is the interval where the model is defined.
    """

    drive = "current"
    drive_range = (-math.inf, math.inf)

    @property
    def drive_unit(self):
        """"A/m^2" or "V"."""
        return "A/m^2" if self.drive == "current" else "V"

    def _tables(self):
        cache = self.__dict__.get("_cache")
        if cache is None:
            cache = self._build()
            object.__setattr__(self, "_cache", cache)
        return cache

    def _check_range(self, x):
        """Refuse drives outside a finite ``drive_range`` (the public methods do not
        extrapolate a table or a fit)."""
        lo, hi = self.drive_range
        if (math.isfinite(lo) or math.isfinite(hi)) and np.size(x):
            self.check_drive(x)

    def coefficients(self, x, cos_theta):
        """(a, b) in (ħ/2e)·A/m² at drive ``x`` and cos θ = m·p; broadcast arrays.  A drive
        outside ``drive_range`` is refused (DynamicsError), as in :func:`integrate`."""
        self._check_range(x)
        ta, tb, _ = self._tables()
        return ta(x, cos_theta), tb(x, cos_theta)

    def components(self, x, theta):
        """(T∥, T⊥) = (a sin θ, b sin θ) in (ħ/2e)·A/m² at drive ``x`` and angle θ (radians),
        the components of DESIGN §1."""
        theta = np.asarray(theta, float)
        a, b = self.coefficients(x, np.cos(theta))
        return a * np.sin(theta), b * np.sin(theta)

    def current_density(self, x, cos_theta):
        """Charge current density J in A/m² at drive ``x`` and cos θ (NaN if the model has none);
        a drive outside ``drive_range`` is refused."""
        self._check_range(x)
        return self._tables()[2](x, cos_theta)

    def check_drive(self, values):
        """Raise DynamicsError when a drive value lies outside ``drive_range``."""
        lo, hi = self.drive_range
        v = np.asarray(values, float)
        if not np.all(np.isfinite(v)):
            raise DynamicsError(f"{type(self).__name__}: the drive must be finite.")
        tol = 1e-9 * max(abs(lo), abs(hi), 1.0) if np.isfinite(lo) else 0.0
        if v.min() < lo - tol or v.max() > hi + tol:
            raise DynamicsError(
                f"{type(self).__name__}: drive {v.min() if v.min() < lo else v.max():.10g} "
                f"{self.drive_unit} outside the model's range [{lo:.6g}, {hi:.6g}] "
                f"{self.drive_unit}; extend the scan or keep the drive inside it."
            )


@strict_keywords
@dataclass(frozen=True, kw_only=True)
class ConstantTorque(TorqueModel):
    r"""Current-driven torque with constant efficiencies: a = η∥J, b = b₀ + η⊥J.

    Parameters
    ----------
    eta_par : float
        In-plane (damping-like) efficiency η∥ = T∥/(J sin θ), dimensionless (a fully polarized
        current has η∥ = 1 in the units of DESIGN §1).
    eta_perp : float
        Out-of-plane (field-like) efficiency η⊥.  Default 0.
    b0 : float
        Bias-independent out-of-plane coefficient (interlayer exchange) in (ħ/2e)·A/m².
        Default 0.

    Notes
    -----
    Slonczewski's form with Λ = 1 (T∥ ∝ sin θ) and a field-like term; the current density is
    the drive itself, J(x, θ) = x.
    """

    eta_par: float
    eta_perp: float = 0.0
    b0: float = 0.0
    drive = "current"

    def __post_init__(self):
        for k in ("eta_par", "eta_perp", "b0"):
            object.__setattr__(self, k, finite_scalar("ConstantTorque", k, getattr(self, k)))

    def _build(self):
        return (_Table.global_poly([[0.0], [self.eta_par]]),
                _Table.global_poly([[self.b0], [self.eta_perp]]),
                _Table.global_poly([[0.0], [1.0]]))


@strict_keywords
@dataclass(frozen=True, kw_only=True)
class SlonczewskiTorque(TorqueModel):
    r"""Slonczewski's current-driven torque in the form of mumax3, OOMMF and ubermag.

    Parameters
    ----------
    P : float
        Spin polarization (mumax3 ``Pol``, OOMMF/ubermag ``P``) in [−1, 1]: the spin current
        (ħ/2e)PJ carried by the charge current J cannot exceed it; P < 0 reverses the torque
        (mumax3 accepts it; ubermag needs P > 0, see :func:`~.export.export_parameters`).
    Lambda : float
        Slonczewski Λ > 0 (1: ε independent of θ, T∥ ∝ sin θ).  Default 1.
    epsilon_prime : float
        Secondary (field-like) efficiency ε′ (mumax3 ``EpsilonPrime``).  Default 0.

    Notes
    -----
    mumax3 (Vansteenkiste et al., AIP Adv. 4, 107133 (2014), Eq. 9) writes the Gilbert-form
    torque as γβε m×(p×m) − γβε′ m×p with β = ħJ/(eM_s d); in the units of DESIGN §1
    (dm/dt = γħT/(2eM_s d)) that is

    .. math::

        a = 2J\varepsilon(\theta),\quad b = -2J\varepsilon',\quad
        \varepsilon = \frac{P\Lambda^2}{(\Lambda^2+1)+(\Lambda^2-1)\cos\theta}.

    With Λ = 1, a = PJ: P is the efficiency η∥ of :class:`ConstantTorque`.
    """

    P: float
    Lambda: float = 1.0
    epsilon_prime: float = 0.0
    drive = "current"

    def __post_init__(self):
        object.__setattr__(self, "P", finite_scalar("SlonczewskiTorque", "P", self.P))
        if not -1.0 <= self.P <= 1.0:
            raise DynamicsError(
                f"SlonczewskiTorque: `P` is a spin polarization and must lie in [-1, 1] (the "
                f"spin current PJ cannot exceed the charge current J), got {self.P!r}; for a "
                "larger efficiency use ConstantTorque(eta_par=...).")
        object.__setattr__(self, "Lambda", finite_scalar("SlonczewskiTorque", "Lambda",
                                                         self.Lambda, positive=True))
        object.__setattr__(self, "epsilon_prime", finite_scalar(
            "SlonczewskiTorque", "epsilon_prime", self.epsilon_prime))

    def epsilon(self, cos_theta):
        """ε(θ) of the Notes."""
        l2 = self.Lambda**2
        return self.P * l2 / ((l2 + 1) + (l2 - 1) * np.asarray(cos_theta, float))

    def _build(self):
        coef = _cheb_coefficients(lambda c: 2 * self.epsilon(c), "SlonczewskiTorque")
        return (_Table.global_poly([[0.0], coef]),
                _Table.global_poly([[0.0], [-2.0 * self.epsilon_prime]]),
                _Table.global_poly([[0.0], [1.0]]))


@strict_keywords
@dataclass(frozen=True, kw_only=True)
class PolynomialTorque(TorqueModel):
    r"""Voltage-driven torque from the bias fits: T∥ = (a₀ + a₁V + a₂V²) sin θ,
    T⊥ = (b₀ + b₁V + b₂V²) sin θ.

    Parameters
    ----------
    a1, a2, b0, b1, b2, a0 : float
        Coefficients of T/sin θ in (ħ/2e)·A/m²/V^k, the names of
        :func:`~mtj_kwant.analytic.fits.fit_inplane` / ``fit_outofplane`` (those fit T at
        the sweep's θ; divide by sin θ, as :meth:`from_sweep` does).  a0 (default 0) is
        T∥(0)/sin θ, zero for the total torque (DESIGN §1).
    current : (c1, c2, c3), optional
        J(V) = c₁V + c₂V² + c₃V³ in A/m² at θ = 90°.  None: the current is unknown (NaN).
    polarization_product : float
        P_L P_R of Slonczewski's G(θ) = G₀(1 + P_L P_R cos θ): J(V, θ) = J(V)(1 + P_LP_R cos θ).
        Default 0 (J independent of θ).
    stderr : dict, optional
        Standard uncertainties of the coefficients by name (kept for reports; not used).
    bias_range : (float, float), optional
        The biases (V) where the polynomials hold: :attr:`drive_range`, outside which the
        model refuses a drive (as :class:`TabulatedTorque`).  :meth:`from_sweep` sets the
        sweep's range, so that a fit is not extrapolated.  None (default): any bias.

    Examples
    --------
    >>> t = PolynomialTorque(a1=1e9, a2=2e8, b0=-1e7, b2=-3e8)
    >>> [float(v) for v in t.coefficients(0.5, 0.0)]
    [550000000.0, -85000000.0]
    """

    a1: float
    a2: float = 0.0
    b0: float = 0.0
    b1: float = 0.0
    b2: float = 0.0
    a0: float = 0.0
    current: tuple | None = None
    polarization_product: float = 0.0
    stderr: dict = field(default_factory=dict, compare=False, repr=False)
    bias_range: tuple | None = None
    drive = "voltage"

    @property
    def drive_range(self):
        """(low, high) bias in V where the model is defined: ``bias_range`` or all biases."""
        return (-math.inf, math.inf) if self.bias_range is None else self.bias_range

    def __post_init__(self):
        for k in ("a0", "a1", "a2", "b0", "b1", "b2", "polarization_product"):
            object.__setattr__(self, k, finite_scalar("PolynomialTorque", k, getattr(self, k)))
        if self.bias_range is not None:
            try:
                lo, hi = (float(v) for v in self.bias_range)
            except (TypeError, ValueError):
                lo = hi = math.nan
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise DynamicsError("PolynomialTorque: `bias_range` must be (low, high) in V with "
                                    f"low < high, got {self.bias_range!r}.",
                                    parameter="bias_range")
            object.__setattr__(self, "bias_range", (lo, hi))
        if self.current is not None:
            try:
                c = tuple(float(v) for v in self.current)
            except (TypeError, ValueError):
                c = ()
            if len(c) != 3 or not all(math.isfinite(v) for v in c):
                raise DynamicsError(
                    "PolynomialTorque: `current` must be (c1, c2, c3) in A/m^2/V^k "
                    f"(J = c1 V + c2 V^2 + c3 V^3), got {self.current!r}."
                )
            object.__setattr__(self, "current", c)
        if abs(self.polarization_product) >= 1:
            raise DynamicsError(
                "PolynomialTorque: `polarization_product` P_L*P_R must lie in (-1, 1), got "
                f"{self.polarization_product!r}."
            )

    @classmethod
    def from_sweep(cls, result, *, part="total", polarization_product=0.0):
        """Fit a :class:`~mtj_kwant.sweep.SweepResult` (or its JSON path).

        T∥ and T⊥ of ``part`` ("total" or "window") are fitted to degree 2 in V with their
        error estimates as sigma and divided by sin θ of the sweep; J(V) to degree 3, so the
        sweep needs at least 4 distinct biases.  ``bias_range`` is the sweep's: the fit is
        not extrapolated.  The sweep is checked first (:func:`sweep_data`: one line naming
        the file, key and bias of a malformed entry; a warning naming unconverged points).
        """
        data = sweep_data("PolynomialTorque.from_sweep", result, part=part, min_biases=4)
        return cls._from_sweep_data(data, polarization_product)

    @classmethod
    def _from_sweep_data(cls, data, polarization_product=0.0):
        """The fit of a checked sweep (:class:`SweepData`)."""
        from ..analytic.fits import fit_bias_polynomial, fit_inplane, fit_outofplane

        s, v = data.sin_theta, data.bias
        fa = fit_inplane(v, data.torque_inplane / s, 2, sigma=data.sigma("torque_inplane"))
        fb = fit_outofplane(v, data.torque_outofplane / s, 2,
                            sigma=data.sigma("torque_outofplane"))
        fj = fit_bias_polynomial(v, data.current_density, 3)
        cj = fj.coefficients
        # J at θ = 90° from J at the sweep's θ with G(θ) ∝ 1 + P_LP_R cos θ.
        ratio = 1.0 + polarization_product * math.cos(math.radians(data.theta_deg))
        stderr = {**{k: u for k, (_, u) in fa.named().items()},
                  **{k: u for k, (_, u) in fb.named().items()}}
        return cls(a0=fa.coefficients[0], a1=fa.coefficients[1], a2=fa.coefficients[2],
                   b0=fb.coefficients[0], b1=fb.coefficients[1], b2=fb.coefficients[2],
                   current=(cj[1] / ratio, cj[2] / ratio, cj[3] / ratio),
                   polarization_product=polarization_product, stderr=stderr,
                   bias_range=(float(v[0]), float(v[-1])))

    def _build(self):
        ta = _Table.global_poly([[self.a0], [self.a1], [self.a2]])
        tb = _Table.global_poly([[self.b0], [self.b1], [self.b2]])
        if self.current is None:
            tj = _Table.global_poly([[math.nan]])
        else:
            pp = self.polarization_product
            tj = _Table.global_poly([[0.0]] + [[c, c * pp] for c in self.current])
        return ta, tb, tj


class TabulatedTorque(TorqueModel):
    r"""Voltage-driven torque interpolated from computed T∥(V, θ), T⊥(V, θ), J(V, θ).

    Parameters
    ----------
    bias : array_like (nV,)
        Biases in V, increasing, at least 2.
    theta : array_like (nθ,)
        Angles in radians in [0, π], at least one strictly inside.
    torque_inplane, torque_outofplane : array_like (nV, nθ)
        T∥ and T⊥ in (ħ/2e)·A/m² (including sin θ, DESIGN §1).
    current_density : array_like (nV, nθ), optional
        J in A/m² (NaN if omitted).
    n_harmonics : int, optional
        Number K of sine harmonics in the angular fit (default: min(4, number of angles
        strictly inside (0, π))).

    Notes
    -----
    At each bias the angular dependence is fitted (least squares) by sine and cosine series,

    .. math::

        T_\parallel(\theta) = \sum_{k=1}^{K} A_k \sin k\theta,\quad
        J(\theta) = \sum_{k=0}^{K} C_k \cos k\theta,

    so that a = T∥/sin θ = Σ A_k U_{k−1}(cos θ) (Chebyshev polynomials of the second kind)
    is smooth through θ = 0 and π, where T/sin θ is 0/0.  The coefficients are interpolated
    in V by cubic splines (not-a-knot; linear for 2–3 biases).  ``angular_residual`` is the
    largest fit residual relative to the largest |T| of the table; the V interpolation error
    is not estimated (refine the bias grid to check it).  Outside [bias[0], bias[-1]] the
    model refuses the drive.
    """

    drive = "voltage"

    def __init__(self, bias, theta, torque_inplane, torque_outofplane, current_density=None,
                 *, n_harmonics=None, **unknown):
        name = "TabulatedTorque"
        check_keywords(name, unknown, ("bias", "theta", "torque_inplane", "torque_outofplane",
                                       "current_density", "n_harmonics"))
        v = np.asarray(bias, float).reshape(-1)
        th = np.asarray(theta, float).reshape(-1)
        if v.size < 2 or np.any(np.diff(v) <= 0) or not np.all(np.isfinite(v)):
            raise DynamicsError(f"{name}: `bias` must be at least 2 increasing finite values (V).")
        if th.size < 1 or np.any(th < -1e-12) or np.any(th > math.pi + 1e-12):
            raise DynamicsError(f"{name}: `theta` must be angles in [0, pi] radians.")
        inner = (th > 1e-9) & (th < math.pi - 1e-9)
        if not inner.any():
            raise DynamicsError(f"{name}: `theta` needs at least one angle strictly between "
                                "0 and pi (the torque vanishes at 0 and pi).")
        shape = (v.size, th.size)
        arrays = []
        for key, val in (("torque_inplane", torque_inplane),
                         ("torque_outofplane", torque_outofplane),
                         ("current_density", current_density)):
            if val is None:
                arrays.append(np.full(shape, np.nan))
                continue
            a = np.asarray(val, float)
            if a.shape != shape:
                raise DynamicsError(f"{name}: `{key}` must have shape (n_bias, n_theta) = "
                                    f"{shape}, got {a.shape}.")
            if key != "current_density" and not np.all(np.isfinite(a)):
                raise DynamicsError(f"{name}: `{key}` contains non-finite values.")
            arrays.append(a)
        n_in = int(np.unique(np.round(th[inner], 12)).size)
        K = min(4, n_in) if n_harmonics is None else int(n_harmonics)
        if K < 1 or K > n_in:
            raise DynamicsError(f"{name}: `n_harmonics` must lie in [1, {n_in}] (angles "
                                f"strictly inside (0, pi)), got {n_harmonics!r}.")
        self.bias = v
        self.theta = th
        self.torque_inplane, self.torque_outofplane, self.current = arrays
        self.n_harmonics = K
        self.drive_range = (float(v[0]), float(v[-1]))
        # Angular fits -> Chebyshev-T coefficients per bias.
        ks = np.arange(1, K + 1)
        S = np.sin(np.outer(th, ks))                       # (nθ, K)
        Ua = np.zeros((K, K))                              # U_{k-1} in T basis
        for k in range(1, K + 1):
            Ua[k - 1, :k] = _cheb.chebinterpolate(
                lambda c, k=k: _u_poly(k - 1, c), k - 1)[:k]
        sine_a = np.linalg.lstsq(S, arrays[0].T, rcond=None)[0].T        # (nV, K): A_k
        sine_b = np.linalg.lstsq(S, arrays[1].T, rcond=None)[0].T
        coef_a, coef_b = sine_a @ Ua, sine_b @ Ua                          # T_j coefficients
        scale = max(np.max(np.abs(arrays[0])), np.max(np.abs(arrays[1])), 1e-300)
        resid = max(np.max(np.abs(arrays[0] - sine_a @ S.T)),
                    np.max(np.abs(arrays[1] - sine_b @ S.T)))
        self.angular_residual = float(resid / scale)
        Kj = min(K + 1, int(np.unique(np.round(th, 12)).size))
        Cm = np.cos(np.outer(th, np.arange(Kj)))
        if np.all(np.isfinite(arrays[2])):
            coef_j = np.linalg.lstsq(Cm, arrays[2].T, rcond=None)[0].T   # cos kθ = T_k(cos θ)
        else:
            coef_j = np.full((v.size, Kj), np.nan)
        self._coef = (coef_a, coef_b, coef_j)

    @classmethod
    def from_scan(cls, scan, *, part="total", n_harmonics=None):
        """Build from a :class:`~mtj_kwant.scan.ScanResult` over bias × θ, or its file: the
        JSON form, or the CSV that ``mtj-kwant scan --output x.csv`` writes (read with its
        ``x.csv.meta.json`` beside it).

        Needs one value of every other parameter (φ, temperature, junction paths) and a full
        grid; θ is read in degrees from ``theta_deg``.
        """
        from ..scan import ScanResult
        from ..sweep import SweepResult

        if isinstance(scan, SweepResult):
            raise DynamicsError("TabulatedTorque.from_scan: got a SweepResult (one θ); use "
                                "TabulatedTorque.from_sweep for it, or give a ScanResult over "
                                "bias × θ.")
        if not isinstance(scan, (ScanResult, str, os.PathLike)):
            raise DynamicsError(f"TabulatedTorque.from_scan: expected a ScanResult or the path "
                                f"of its file (.json, or the .csv of mtj-kwant scan --output "
                                f"with its .csv.meta.json beside it), got {type(scan).__name__}.")
        path = None
        if not isinstance(scan, ScanResult):
            path = os.fspath(scan)
            if path.endswith(".meta.json"):
                raise DynamicsError(
                    f"TabulatedTorque.from_scan: {path} is the metadata beside a scan table; "
                    f"give the table itself, {path[:-len('.meta.json')]}.")
            if not os.path.exists(path):
                raise DynamicsError(f"TabulatedTorque.from_scan: {path}: no such file.")
            try:
                scan = ScanResult.load(path)
            except (OSError, ValueError) as err:
                if "'sweep' result" in str(err):
                    raise DynamicsError(
                        f"TabulatedTorque.from_scan: {path} is a sweep (one θ), not a scan over "
                        "bias × θ; use TabulatedTorque.from_sweep for it.") from None
                raise DynamicsError(f"TabulatedTorque.from_scan: {err}") from None
        kp, ko = f"torque_inplane_{part}", f"torque_outofplane_{part}"
        if kp not in scan.columns:
            raise DynamicsError(f"TabulatedTorque.from_scan: the scan has no column {kp!r}; "
                                "rerun it with parts='total' (or 'both'), or use part='window'.")
        for name in scan.parameters:
            if name in ("bias_V", "theta_deg"):
                continue
            if len(set(scan.columns[name])) > 1:
                raise DynamicsError(
                    f"TabulatedTorque.from_scan: the scan varies {name!r}; select one value "
                    "of every parameter besides bias_V and theta_deg first.")
        def numbers(key):
            try:
                col = np.asarray(scan[key], float)
            except (TypeError, ValueError):
                bad = next((c for c in scan[key] if not _is_number(c)), None)
                src = f"{path}: " if path else ""
                raise DynamicsError(f"TabulatedTorque.from_scan: {src}column {key!r} has a "
                                    f"non-numeric entry {str(bad)!r}; the file is damaged or "
                                    "edited: rerun the scan.") from None
            return col

        v = numbers("bias_V")
        th = numbers("theta_deg")
        vs, ts = np.unique(v), np.unique(th)
        grids = []
        for key in (kp, ko, "current_density"):
            g = np.full((vs.size, ts.size), np.nan)
            g[np.searchsorted(vs, v), np.searchsorted(ts, th)] = numbers(key)
            if np.isnan(g).any() and key != "current_density":
                raise DynamicsError("TabulatedTorque.from_scan: the scan is not a full "
                                    "bias x theta grid.")
            grids.append(g)
        return cls(vs, np.radians(ts), *grids, n_harmonics=n_harmonics)

    @classmethod
    def from_sweep(cls, result, *, part="total"):
        """Build from a :class:`~mtj_kwant.sweep.SweepResult` or its JSON path (one angle:
        T ∝ sin θ, J independent of θ), at least 2 distinct biases, in any order.

        The sweep is checked first (:func:`sweep_data`: one line naming the file, key and
        bias of a malformed entry; a warning naming unconverged points).
        """
        data = sweep_data("TabulatedTorque.from_sweep", result, part=part, min_biases=2)
        th = np.array([math.radians(data.theta_deg)])
        return cls(data.bias, th, data.torque_inplane[:, None],
                   data.torque_outofplane[:, None], data.current_density[:, None])

    def _build(self):
        v = self.bias
        tables = []
        for coef in self._coef:
            if v.size >= 4:
                from scipy.interpolate import CubicSpline

                pp = CubicSpline(v, coef, axis=0, bc_type="not-a-knot")
                c = pp.c                                     # (4, nV-1, K), highest power first
                C = np.transpose(c[::-1], (1, 0, 2))         # (nV-1, 4, K), ascending powers
            else:
                slope = np.diff(coef, axis=0) / np.diff(v)[:, None]
                C = np.stack([coef[:-1], slope], axis=1)      # (nV-1, 2, K)
            tables.append(_Table(v[1:-1], v[:-1], C))
        return tuple(tables)


@dataclass(frozen=True)
class SweepData:
    """The columns of a checked sweep (:func:`sweep_data`), sorted by bias.

    ``bias`` (V), ``torque_inplane``/``torque_outofplane`` of the part ((ħ/2e)·A/m², at the
    sweep's θ, including sin θ), ``current_density`` (A/m²), their ``errors`` by column name
    (None where absent or unusable), ``theta_deg``, ``sin_theta``, the ``part`` and the
    ``name`` that messages use (the file, or None).
    """

    name: str | None
    part: str
    theta_deg: float
    sin_theta: float
    bias: np.ndarray
    torque_inplane: np.ndarray
    torque_outofplane: np.ndarray
    current_density: np.ndarray
    errors: dict

    def sigma(self, column):
        """Error estimates of ``column`` ("torque_inplane"/"torque_outofplane") divided by
        |sin θ|, as fit weights, or None where they are missing, non-finite or zero."""
        e = self.errors.get(column)
        if e is None:
            return None
        e = np.abs(e) / abs(self.sin_theta)
        return e if np.all(np.isfinite(e)) and np.all(e > 0) else None


def sweep_data(owner, result, *, part="total", min_biases=2):
    """Check a sweep (a :class:`~mtj_kwant.sweep.SweepResult` or its JSON path) once, before
    any torque model is built from it, and return its columns (:class:`SweepData`).

    Refused in one line that names the file (or ``owner``), the key and, for an entry, its
    bias: ``part`` not "total"/"window" or absent from the sweep; θ = 0 or 180° (no torque);
    ``bias_V``, ``current_density`` or a torque list of another length than ``bias_V``; an
    entry that is not a finite number (text, ``null``/NaN, ±inf); a repeated bias; fewer than
    ``min_biases`` biases.  Bias points whose integrals did not reach the tolerance
    (``converged`` false, the sweep's status 1) are kept, with a
    :class:`~mtj_kwant.dynamics.DynamicsWarning` that names them: their values are the best
    estimates, with error estimates in the file.
    """
    from ..sweep import SweepResult

    name = None
    if isinstance(result, (str, os.PathLike)):
        name = os.fspath(result)
        try:
            result = SweepResult.load(name)
        except (OSError, ValueError) as err:
            raise DynamicsError(f"{owner}: cannot read the sweep {name}: {err}") from None
    if not isinstance(result, SweepResult):
        raise DynamicsError(f"{owner}: expected a SweepResult or the path of its JSON file, got "
                            f"{type(result).__name__}.")
    where = f"{name}: " if name else f"{owner}: "
    if part not in ("total", "window"):
        raise DynamicsError(f"{owner}: `part` must be 'total' or 'window', got {part!r}.",
                            parameter="part")
    theta = getattr(result, "theta_deg", None)
    if isinstance(theta, (bool, str)) or not isinstance(theta, (int, float, np.number)) \
            or not math.isfinite(theta):
        raise DynamicsError(f"{where}`theta_deg` must be a finite angle in degrees, got "
                            f"{theta!r}.")
    s = math.sin(math.radians(theta))
    if abs(s) < 1e-6:
        raise DynamicsError(
            f"{where}the sweep is at theta = {theta:g} deg, where m is collinear with p and the "
            "torques vanish by symmetry, so they give no efficiency; rerun the sweep at "
            "theta = 90 deg (mtj-kwant sweep SYSTEM.toml --theta 90 --bias ... --parts total)."
        )
    kp, ko = f"torque_inplane_{part}", f"torque_outofplane_{part}"
    if getattr(result, kp, None) is None or getattr(result, ko, None) is None:
        other = "window" if part == "total" else "total"
        raise DynamicsError(
            f"{where}the sweep has no '{part}' torques; rerun it with --parts "
            f"{part if part == 'total' else 'both'} (parts='{part if part == 'total' else 'both'}' "
            f"in Python), or use the {other} part (--part {other}).")
    bias = _column(where, "bias_V", result.bias_V, None)
    n = bias.size
    cols = {key: _column(where, key, getattr(result, key), bias)
            for key in (kp, ko, "current_density")}
    order = np.argsort(bias, kind="stable")
    vs = bias[order]
    rep = vs[1:][np.diff(vs) == 0]
    if rep.size:
        raise DynamicsError(f"{where}`bias_V` repeats {rep[0]:g} V; a sweep's biases must be "
                            "distinct (rerun it, or drop the repeated points).")
    if n < min_biases:
        shown = ", ".join(f"{x:g}" for x in vs)
        why = ("the fit is quadratic in the torques and cubic in J (4 coefficients)"
               if min_biases >= 4 else "the table interpolates between biases")
        raise DynamicsError(f"{where}the sweep has {n} bias{'es' if n != 1 else ''} ({shown} V); "
                            f"{owner} needs at least {min_biases}: {why}; add biases to the "
                            "sweep" + (", or use the table (TabulatedTorque.from_sweep, "
                                       "--model table), which needs 2" if min_biases > 2
                                       else "") + ".")
    errors = {}
    raw_errors = getattr(result, "errors", None)
    raw_errors = raw_errors if isinstance(raw_errors, dict) else {}
    for short, key in (("torque_inplane", kp), ("torque_outofplane", ko)):
        e = _numbers_or_none(raw_errors.get(key), n)
        errors[short] = None if e is None else e[order]
    converged = getattr(result, "converged", None)
    if isinstance(converged, (list, tuple, np.ndarray)):
        if len(converged) != n:
            raise DynamicsError(f"{where}`converged` has {len(converged)} entries but `bias_V` "
                                f"has {n}; the file is damaged or edited: rerun the sweep.")
        for i, c in enumerate(converged):
            if not isinstance(c, (bool, np.bool_)):
                raise DynamicsError(f"{where}`converged` at bias {bias[i]:g} V is {c!r}, not "
                                    "true or false; the file is damaged or edited: rerun the "
                                    "sweep (at that bias).")
        bad = [i for i in order if not bool(converged[i])]
        if bad:
            shown = ", ".join(f"{bias[i]:g}" for i in bad[:6]) + (", ..." if len(bad) > 6 else "")
            warnings.warn(
                f"{where}{len(bad)} of {n} bias points did not reach the tolerance (converged "
                f"false: bias {shown} V); their values are the best estimates, with the error "
                "estimates in the file, and what is built from them inherits those errors "
                "(rerun those points, e.g. with a looser --rtol, to clear this).",
                DynamicsWarning, stacklevel=3)
    return SweepData(name=name, part=part, theta_deg=float(theta), sin_theta=s, bias=vs,
                     torque_inplane=cols[kp][order], torque_outofplane=cols[ko][order],
                     current_density=cols["current_density"][order], errors=errors)


def _column(where, key, values, bias):
    """A sweep's list ``key`` as a finite float array aligned with ``bias`` (one-line errors)."""
    if not isinstance(values, (list, tuple, np.ndarray)) or (
            isinstance(values, np.ndarray) and values.ndim != 1):
        raise DynamicsError(f"{where}`{key}` must be a list of numbers, got "
                            f"{type(values).__name__}.")
    if bias is not None and len(values) != bias.size:
        raise DynamicsError(f"{where}`{key}` has {len(values)} entries but `bias_V` has "
                            f"{bias.size}; the file is damaged or edited: rerun the sweep.")
    out = np.empty(len(values))
    for i, v in enumerate(values):
        at = f"at bias {bias[i]:g} V" if bias is not None else f"entry {i}"
        if v is None or isinstance(v, (bool, np.bool_)) or not isinstance(
                v, (int, float, np.integer, np.floating)):
            raise DynamicsError(f"{where}`{key}` {at} is {v!r}, not a number; the file is "
                                "damaged or edited: rerun the sweep (at that bias).")
        if not math.isfinite(v):
            what = "null (NaN)" if math.isnan(v) else f"{float(v):g}"
            raise DynamicsError(f"{where}`{key}` {at} is {what}, not a finite number: that point "
                                "has no value; rerun the sweep at that bias, or drop it.")
        out[i] = float(v)
    return out


def _is_number(c):
    """Whether ``c`` converts to a float (a cell of a scan table)."""
    try:
        float(c)
    except (TypeError, ValueError):
        return False
    return True


def _numbers_or_none(values, n):
    """Error estimates as n floats, or None if absent or malformed (they only weight fits)."""
    if not isinstance(values, (list, tuple, np.ndarray)) or len(values) != n:
        return None
    try:
        e = np.asarray(values, float).reshape(-1)
    except (TypeError, ValueError):
        return None
    return e if e.size == n else None


def _u_poly(n, c):
    """Chebyshev polynomial of the second kind U_n(c)."""
    c = np.asarray(c, float)
    u0, u1 = np.ones_like(c), 2 * c
    if n == 0:
        return u0
    for _ in range(n - 1):
        u0, u1 = u1, 2 * c * u1 - u0
    return u1
