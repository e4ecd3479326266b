r"""Polynomial fits of torques (or currents) versus bias, with standard uncertainties.

The bias dependence of the torques is summarised by :math:`T_\parallel \approx a_0 + a_1V + a_2V^2`
and :math:`T_\perp \approx b_0 + b_1V + b_2V^2` (Eq. 2 of the model paper, with the linear term
b₁ that asymmetric junctions and spin diffusion produce, Eqs. 26–27).  :func:`fit_bias_polynomial`
does the weighted linear least-squares fit of any degree; :func:`fit_inplane` and
:func:`fit_outofplane` name the coefficients a_k and b_k.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .slonczewski import _finite

__all__ = ["PolynomialFit", "fit_bias_polynomial", "fit_inplane", "fit_outofplane",
           "fit_status", "fit_with_errors", "fit_sweep_torques", "NOT_MEANINGFUL"]

#: How the status of a fit that should not be read as numbers begins.
NOT_MEANINGFUL = "not meaningful"


def fit_status(n_points, n_params, stderr=(), unphysical=None):
    """"ok", or "not meaningful: <reason>" for a fit whose numbers mean nothing.

    Parameters
    ----------
    n_points : int
        Number of data values fitted (a complex value counts as two).
    n_params : int
        Number of fitted parameters.
    stderr : sequence of float
        Standard uncertainties of the parameters; a NaN or inf one makes the fit not
        meaningful (its covariance could not be estimated).
    unphysical : str, optional
        A reason found by the caller (e.g. "the envelope grows: decay length -94 nm").

    Returns
    -------
    str
        The first reason that applies: too few points (fewer than ``n_params`` + 1: an
        interpolation, with no degree of freedom left to test the model or to estimate the
        uncertainties from the residuals), non-finite uncertainties, ``unphysical``.

    Examples
    --------
    >>> fit_status(3, 3).startswith("not meaningful: 3 points for 3 parameters")
    True
    >>> fit_status(10, 2, [0.1, 0.2])
    'ok'
    """
    if n_points < n_params + 1:
        return (f"{NOT_MEANINGFUL}: {n_points} points for {n_params} parameters (an "
                "interpolation: no degree of freedom left to test the model or estimate the "
                "uncertainties)")
    bad = [k for k, u in enumerate(stderr) if not np.isfinite(u)]
    if bad:
        return (f"{NOT_MEANINGFUL}: the uncertainties of parameter(s) "
                f"{', '.join(map(str, bad))} cannot be estimated (covariance not finite)")
    if unphysical:
        return f"{NOT_MEANINGFUL}: {unphysical}"
    return "ok"


@dataclass(frozen=True)
class PolynomialFit:
    r"""Result of a polynomial fit :math:`y(V) = \sum_k c_k V^k`.

    Attributes
    ----------
    coefficients : tuple of float
        :math:`c_0, \dots, c_n` (unit of y per V^k).
    stderr : tuple of float
        Standard uncertainties :math:`\sqrt{C_{kk}}` (NaN when they cannot be estimated: as many
        points as coefficients and no ``sigma``).
    covariance : ndarray
        Covariance matrix C of the coefficients, (n+1) × (n+1), read-only.
    bias_range : (float, float)
        Smallest and largest bias of the data (V); the fit is not meant for extrapolation.
    degree : int
        Polynomial degree n.
    rms_residual : float
        Root-mean-square of the (unweighted) residuals y − fit (unit of y).
    n_points : int
        Number of data points.
    chi2_reduced : float
        :math:`\chi^2/(N-n-1)` with the given sigma (NaN without sigma or dof).
    prefix : str
        Coefficient name prefix ("c", "a" for T∥, "b" for T⊥).
    status : str
        "ok", or "not meaningful: <reason>" (:func:`fit_status`): fewer points than
        coefficients + 1, or uncertainties that cannot be estimated.  Such a fit's numbers
        are kept but should not be reported as results.
    """

    coefficients: tuple
    stderr: tuple
    covariance: np.ndarray = field(repr=False, compare=False)
    bias_range: tuple
    degree: int
    rms_residual: float
    n_points: int
    chi2_reduced: float = float("nan")
    prefix: str = "c"
    status: str = "ok"

    @property
    def meaningful(self):
        """True when :attr:`status` is "ok"."""
        return self.status == "ok"

    def __call__(self, bias):
        """Evaluate the polynomial at ``bias`` (V)."""
        return np.polynomial.polynomial.polyval(np.asarray(bias, float), self.coefficients)

    def named(self):
        """``{"a0": (value, stderr), "a1": ...}`` with this fit's prefix."""
        pairs = zip(self.coefficients, self.stderr)
        return {f"{self.prefix}{k}": (c, u) for k, (c, u) in enumerate(pairs)}

    def __getitem__(self, name):
        """Coefficient by name, e.g. ``fit["b1"]`` → (value, stderr)."""
        try:
            return self.named()[name]
        except KeyError:
            raise KeyError(
                f"no coefficient {name!r}; this fit has {', '.join(self.named())}"
            ) from None

    def __str__(self):
        lines = [
            f"polynomial fit of degree {self.degree} over V in [{self.bias_range[0]:.6g}, "
            f"{self.bias_range[1]:.6g}] V ({self.n_points} points, rms residual {self.rms_residual:.3g}"
            + (f", reduced chi2 {self.chi2_reduced:.3g})" if np.isfinite(self.chi2_reduced) else ")")
        ]
        if not self.meaningful:
            lines.append(f"  {self.status}")
        for k, (name, (c, u)) in enumerate(self.named().items()):
            unit = "" if k == 0 else (" /V" if k == 1 else f" /V^{k}")
            lines.append(f"  {name} = {c:.6g} ± {u:.2g}{unit}")
        return "\n".join(lines)


#: Relative floor of fit errors (``sigma``): the round-off of double-precision data.
SIGMA_ROUNDOFF = 1e-13


def fit_bias_polynomial(bias, values, degree=2, *, sigma=None, absolute_sigma=True, prefix="c"):
    r"""Weighted least-squares fit of :math:`y(V) = c_0 + c_1V + \dots + c_nV^n`.

    Parameters
    ----------
    bias : array_like
        Bias voltages (V), 1-D.
    values : array_like
        Data y (e.g. torques in (ħ/2e)·A/m²), same shape.
    degree : int
        Polynomial degree n ≥ 0; needs at least n + 1 points.
    sigma : array_like or float, optional
        Standard uncertainty of each value (unit of y), > 0.
    absolute_sigma : bool
        With ``sigma``: if True (default) sigma is the true standard deviation and
        :math:`C = (A^TWA)^{-1}`; if False only relative weights, and C is scaled by the reduced
        χ².  Without sigma the uncertainties come from the residual scatter,
        :math:`C = s^2(A^TA)^{-1}`, :math:`s^2 = \sum r_i^2/(N-n-1)`.
    prefix : str
        Name prefix of the coefficients.

    Returns
    -------
    PolynomialFit
        With ``status`` "not meaningful: ..." when there are fewer than degree + 2 points
        or the uncertainties cannot be estimated (see :func:`fit_status`).

    Notes
    -----
    The design matrix is built in the scaled variable :math:`V/\max|V|` (well conditioned for
    any bias range) and solved by SVD (``numpy.linalg.lstsq``); coefficients and covariance are
    scaled back.

    Examples
    --------
    >>> v = np.linspace(-0.5, 0.5, 11)
    >>> fit = fit_bias_polynomial(v, 1.0 + 2.0 * v - 3.0 * v**2)
    >>> np.round(fit.coefficients, 10).tolist()
    [1.0, 2.0, -3.0]
    """
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)):
        raise TypeError(f"`degree` must be an integer, got {degree!r}.")
    if degree < 0:
        raise ValueError(f"`degree` must be >= 0, got {degree}.")
    v = _finite("bias", bias).astype(float)
    y = _finite("values", values).astype(float)
    if v.ndim != 1 or v.shape != y.shape:
        raise ValueError(
            "`bias` and `values` must be 1-D arrays of the same length, "
            f"got shapes {v.shape} and {y.shape}."
        )
    n, p = v.size, degree + 1
    if n < p:
        raise ValueError(
            f"a degree-{degree} fit needs at least {p} points, got {n}; lower `degree` or add biases."
        )
    if np.unique(v).size < p:
        raise ValueError(
            f"a degree-{degree} fit needs at least {p} distinct bias values, got {np.unique(v).size}."
        )
    if sigma is None:
        w = np.ones(n)
    else:
        s = _finite("sigma", sigma).astype(float)
        s = np.broadcast_to(s, v.shape) if s.ndim == 0 else s
        if s.shape != v.shape:
            raise ValueError(
                f"`sigma` must be a scalar or have the shape of `bias` {v.shape}, got {s.shape}."
            )
        if np.any(s <= 0):
            raise ValueError("`sigma` must be > 0 for every point; drop points without uncertainty.")
        # An error below the round-off of the fitted values (an exact zero reports ~1e-291) is
        # no more exact than round-off, and its weight would overflow the normal equations:
        # errors are floored at SIGMA_ROUNDOFF of the data's scale, and the fit runs on data
        # divided by that scale (scale-free, so values ~1e-300 do not overflow either).
        y_scale = max(float(np.max(np.abs(y))), float(np.max(s)))
        s = np.maximum(s, SIGMA_ROUNDOFF * y_scale) / y_scale
        y = y / y_scale
        w = 1.0 / s
    scale = float(np.max(np.abs(v))) or 1.0
    a = np.vander(v / scale, p, increasing=True)
    aw = a * w[:, None]
    coef_s, *_ = np.linalg.lstsq(aw, y * w, rcond=None)
    _, sv, vt = np.linalg.svd(aw, full_matrices=False)
    cov_s = (vt.T / sv**2) @ vt  # (AᵀWA)⁻¹
    resid = y - a @ coef_s
    dof = n - p
    chi2 = float(np.sum((resid * w) ** 2))
    chi2_red = chi2 / dof if dof > 0 else float("nan")
    if sigma is None:
        cov_s = cov_s * (chi2 / dof if dof > 0 else np.nan)
        chi2_red = float("nan")
    elif not absolute_sigma:
        cov_s = cov_s * (chi2_red if dof > 0 else np.nan)
    d = scale ** -np.arange(p)
    if sigma is not None:  # back from the data scale
        d = d * y_scale
        y, resid = y * y_scale, resid * y_scale
    coef = coef_s * d
    cov = cov_s * np.outer(d, d)
    cov.setflags(write=False)
    stderr = tuple(float(np.sqrt(c)) if np.isfinite(c) and c >= 0 else float("nan")
                   for c in np.diag(cov))
    return PolynomialFit(
        coefficients=tuple(float(c) for c in coef),
        stderr=stderr,
        covariance=cov,
        bias_range=(float(v.min()), float(v.max())),
        degree=int(degree),
        rms_residual=float(np.sqrt(np.mean(resid**2))),
        n_points=int(n),
        chi2_reduced=chi2_red,
        prefix=str(prefix),
        status=fit_status(int(n), p, stderr),
    )


def fit_inplane(bias, torque, degree=2, *, sigma=None, absolute_sigma=True):
    r"""Fit :math:`T_\parallel(V) = a_0 + a_1V + a_2V^2 (+\dots)`; coefficients named a0, a1, ….

    Parameters and return value as in :func:`fit_bias_polynomial` (torque in (ħ/2e)·A/m²).
    For a symmetric junction a0 ≈ 0 (T∥(0) = 0) and a2 measures the asymmetry of T∥ in V.

    Examples
    --------
    >>> v = np.linspace(-0.4, 0.4, 9)
    >>> fit_inplane(v, 3.0 * v + 0.5 * v**2)["a1"][0]
    3.0
    """
    return fit_bias_polynomial(
        bias, torque, degree, sigma=sigma, absolute_sigma=absolute_sigma, prefix="a"
    )


def fit_outofplane(bias, torque, degree=2, *, sigma=None, absolute_sigma=True):
    r"""Fit :math:`T_\perp(V) = b_0 + b_1V + b_2V^2 (+\dots)`; coefficients named b0, b1, ….

    Parameters and return value as in :func:`fit_bias_polynomial`.  b0 is the equilibrium
    (interlayer-exchange) torque; b1 ≠ 0 signals an asymmetric junction or spin-current mixing.
    """
    return fit_bias_polynomial(
        bias, torque, degree, sigma=sigma, absolute_sigma=absolute_sigma, prefix="b"
    )


def fit_with_errors(fit, bias, values, degree, sigma):
    """A weighted fit whose uncertainties are the error estimates propagated, never shrunk.

    The uncertainties are those of ``sigma`` (absolute), scaled up by √(reduced χ²) where
    the residuals exceed the error estimates (the polynomial's truncation), never down:
    error estimates are bounds, so a small χ² does not make the coefficients more certain.

    Parameters
    ----------
    fit : callable
        :func:`fit_bias_polynomial`, :func:`fit_inplane` or :func:`fit_outofplane`.
    bias, values, sigma : array_like, shape (N,)
        Biases (V), values and their error estimates (same units, > 0).
    degree : int

    Returns
    -------
    PolynomialFit
    """
    absolute = fit(bias, values, degree, sigma=sigma, absolute_sigma=True)
    if absolute.chi2_reduced > 1:
        return fit(bias, values, degree, sigma=sigma, absolute_sigma=False)
    return absolute


def fit_sweep_torques(result, bias_range, degree=2):
    """Fits of the total T∥(V) (a0, a1, …) and T⊥(V) (b0, b1, …) of a sweep over |V| ≤ bias_range.

    Parameters
    ----------
    result : SweepResult
        With ``parts`` "total" or "both" (``torque_inplane_total`` etc. and their errors).
    bias_range : float
        V; the points with |V| ≤ bias_range are fitted.
    degree : int

    Returns
    -------
    dict
        ``{"torque_inplane_total": PolynomialFit, "torque_outofplane_total": PolynomialFit}``,
        weighted by the error estimates (floored at 1e-12 of the largest value) with
        :func:`fit_with_errors`.
    """
    v = np.asarray(result.bias_V, float)
    sel = np.abs(v) <= bias_range + 1e-12
    out = {}
    for key, fit in (("torque_inplane_total", fit_inplane),
                     ("torque_outofplane_total", fit_outofplane)):
        y = np.asarray(getattr(result, key), float)[sel]
        err = np.maximum(np.asarray(result.errors[key], float)[sel], 1e-12 * np.abs(y).max())
        out[key] = fit_with_errors(fit, v[sel], y, degree, err)
    return out
