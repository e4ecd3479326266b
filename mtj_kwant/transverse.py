"""Transverse models: what the integral over the transverse momentum k∥ of a layered junction is.

A laterally perfect junction is diagonal in k∥; every site of the chain sees a
transverse energy ε∥ (times its own factor), and per-area observables are
``∫ d²k∥/(2π)² o(E, ε∥(k∥))``.  Two models (DESIGN.md §3, §5):

- :class:`ContinuumTransverse` (free electron): ε∥ = ħ²k∥²/2m_e ∈ [0, ∞),
  ∫ d²k∥/(2π)² = (1/4π)(2m_e/ħ²) ∫ dε∥;
- :class:`SquareLatticeTransverse` (tight binding): ε∥ = −2t(cos k_y a +
  cos k_z a) ∈ [−4t, 4t], ∫ d²k∥/(2π)² = a⁻² ∫ dε∥ ρ₂D(ε∥) with the
  normalised density of states ρ₂D of the square lattice.

Where every element has the same transverse factor (one mass, one in-plane
hopping) the integrand depends on E_x = E − ε∥ only and the transverse
integral of the occupation is done in closed form (the E_x reduction):
:meth:`reduced_weight`.  Otherwise integration is nested, (E, ε∥), in a
quadrature variable that :meth:`variable` and :meth:`integrand` define.
"""

from __future__ import annotations

import math

import numpy as np

from .physics import FERMI_TAIL, fermi, fermi_integral
from .units import HBAR2_2ME

__all__ = ["ContinuumTransverse", "SquareLatticeTransverse", "transverse_model",
           "tb_cumulative_dos", "tb_dos"]


class ContinuumTransverse:
    """Free-electron transverse motion: ε∥ = ħ²k∥²/(2m_e) ≥ 0 (eV), flat density per area.

    Parameters
    ----------
    mass : float or None
        The one effective mass (m_e) when every element has it (the E_x
        reduction is then exact), else None.
    """

    kind = "free-electron"
    marks = ()  # no interior point of the ε∥ range needs a breakpoint
    extremes = (0.0,)  # ε∥ where the leads' band edges start (outer breakpoints)

    def __init__(self, mass=None):
        self.mass = mass

    @property
    def separable(self):
        """Whether the E_x reduction is exact (one mass everywhere)."""
        return self.mass is not None

    # -- nested (E, ε∥) integration ---------------------------------------------------------
    @property
    def nested_prefactor(self):
        """∫ d²k∥/(2π)² = pref ∫ dε∥ (1/(eV nm²))."""
        return 1.0 / (4 * math.pi * HBAR2_2ME)

    def clip(self, lo, hi):
        """The part of [lo, hi] (eV) inside the transverse range [0, ∞)."""
        return max(0.0, lo), hi

    def variable(self, eps):
        """The quadrature variable of the ε∥ integral: ε∥ itself."""
        return np.asarray(eps, float)

    def integrand(self, f):
        """``f(ε∥)`` as a function of the quadrature variable, with the density and Jacobian."""
        return f

    def energy(self, params):
        """ε∥ (eV) of Kwant ``params`` (``k_par``, 1/nm)."""
        return HBAR2_2ME * params["k_par"] ** 2

    def kwant_value(self, block):
        """A Kwant value function of (θ, φ, V, k∥) calling ``block(site, ε∥, bias, θ, φ)``."""
        def value(site, theta, phi, bias, k_par):
            return block(site, HBAR2_2ME * k_par * k_par, bias, theta, phi)
        return value

    def momenta(self, eps):
        """Kwant ``params`` entries for the transverse energy ``eps`` (eV).

        Raises
        ------
        ValueError
            ``eps`` < 0.
        """
        if eps < 0:
            raise ValueError(f"eps_par must be >= 0 for the free-electron model, got {eps}")
        return {"k_par": math.sqrt(eps / HBAR2_2ME)}

    def sea_range(self, solver, mu, tail):
        """[0, ε_max] (eV): beyond ε_max every site's spectrum lies above μ + ``tail``.

        ``solver`` gives the spectrum's lower bound at ε∥ = 0 and the sites' and
        leads' transverse factors (the spectrum rises at least as fast as the
        smallest of them).
        """
        slope = min(float(np.min(solver.slope_diag)),
                    *[lead.transverse for lead in solver.leads])
        return 0.0, max(0.0, (mu + tail - solver.spectrum_bottom() + 0.2) / slope)

    def typical(self, lo, hi):
        """A transverse energy that sets the scale of the inner integrals (the range's start)."""
        return lo

    def measure(self, lo, hi):
        """∫ (density) dε∥ over [lo, hi] (the length of the range; the density is flat)."""
        return hi - lo

    # -- the E_x reduction ---------------------------------------------------------------
    #: The reduced weight continues analytically to complex energies (μ − z at T = 0), so the
    #: Fermi sea is reduced along a contour too (:func:`mtj_kwant.integrate.bias_point`).
    contour_reduction = True

    @property
    def reduced_prefactor(self):
        """m/(2πħ²) (1/(eV nm²)): the transverse density of the E_x reduction."""
        return self.mass / (4 * math.pi * HBAR2_2ME)

    def reduced_weight(self, ex, mu_in, mu_out, kT):
        """W(E_x) = ∫₀^∞ dε [f(E_x + ε; μ_in) − f(E_x + ε; μ_out)] (eV), DESIGN.md §5."""
        return fermi_integral(mu_in - ex, kT) - fermi_integral(mu_out - ex, kT)

    def reduced_slope_weight(self, ex, mu, kT):
        """∂W/∂μ_in at μ_in = μ_out = μ: f(E_x) (linear response; f(μ) = ½ at T = 0)."""
        return fermi(ex, mu, kT)

    def reduced_range(self, lo, hi, mu_l, mu_r, kT):
        """(lo, hi, breakpoints) of the E_x integral inside the incoming band [lo, hi]."""
        return lo, min(hi, max(mu_l, mu_r) + FERMI_TAIL * kT), [mu_l, mu_r]


class SquareLatticeTransverse:
    """Tight-binding transverse motion on a square lattice (constant ``a``, hopping ``t``).

    ε∥ = −2t(cos k_y a + cos k_z a) ∈ [−4t, 4t]; site j sees (t_j/t) ε∥.

    Parameters
    ----------
    t : float
        The junction's reference in-plane hopping (eV): the ε∥ variable.
    a : float
        Lattice constant (nm).
    t_par : float or None
        The one in-plane hopping of every element when they all share it (the
        E_x reduction is then exact), else None.
    """

    kind = "tight-binding"

    def __init__(self, t, a, t_par=None):
        self.t, self.a, self.t_par = float(t), float(a), t_par

    @property
    def separable(self):
        return self.t_par is not None

    @property
    def marks(self):
        return (0.0,)  # the van Hove point of ρ₂D

    @property
    def extremes(self):
        return (-4 * self.t, 0.0, 4 * self.t)

    @property
    def nested_prefactor(self):
        """∫ d²k∥/(2π)² = a⁻² ∫ dε∥ ρ₂D(ε∥) (1/nm²)."""
        return 1.0 / self.a**2

    def clip(self, lo, hi):
        return max(-4 * self.t, lo), min(4 * self.t, hi)

    def variable(self, eps):
        """v with ε∥ = 4t sign(v) v² (removes the van Hove logarithm of ρ₂D at ε∥ = 0)."""
        eps = np.asarray(eps, float)
        return np.sign(eps) * np.sqrt(np.abs(eps) / (4 * self.t))

    def integrand(self, f):
        """f(ε∥(v)) ρ₂D(ε∥) dε∥/dv: bounded (∝ |v| log|v| at v = 0)."""
        t = self.t

        def g(v):
            eps = 4 * t * np.sign(v) * v**2
            w = tb_dos(eps, t) * 8 * t * np.abs(v)
            return f(eps) * w[:, None]
        return g

    def energy(self, params):
        """ε∥ (eV) of Kwant ``params`` (``k_y``, ``k_z``, 1/nm)."""
        a = self.a
        return -2 * self.t * (math.cos(params["k_y"] * a) + math.cos(params["k_z"] * a))

    def kwant_value(self, block):
        """A Kwant value function of (θ, φ, V, k_y, k_z) calling ``block(site, ε∥, bias, θ, φ)``."""
        t, a = self.t, self.a

        def value(site, theta, phi, bias, k_y, k_z):
            return block(site, -2 * t * (math.cos(k_y * a) + math.cos(k_z * a)), bias, theta, phi)
        return value

    def momenta(self, eps):
        """Kwant ``params`` entries (k_y = k_z) for the transverse energy ``eps`` (eV).

        Raises
        ------
        ValueError
            ``eps`` outside the transverse band [−4t, 4t].
        """
        t = self.t
        c = -eps / (4 * t)
        if not -1 <= c <= 1:
            raise ValueError(f"eps_par must lie in the transverse band [-4t, 4t] = "
                             f"[{-4 * t}, {4 * t}] eV")
        k = math.acos(c) / self.a
        return {"k_y": k, "k_z": k}

    def sea_range(self, solver, mu, tail):
        """The whole transverse band [−4t, 4t] (eV)."""
        return -4 * self.t, 4 * self.t

    def typical(self, lo, hi):
        """−2t: the middle of the lower half of the band (sets the scale of inner integrals)."""
        return -2 * self.t

    def measure(self, lo, hi):
        """∫ ρ₂D dε∥ over the band: 1."""
        return 1.0

    #: ρ₂D's transverse weight is not analytic off the real axis: the sea is nested.
    contour_reduction = False

    @property
    def reduced_prefactor(self):
        return 1.0 / self.a**2

    def reduced_weight(self, ex, mu_in, mu_out, kT):
        """W(E_x) = a⁻²-normalised ∫ dε ρ₂D(ε) [f(E_x + ε; μ_in) − f(E_x + ε; μ_out)]."""
        t = self.t_par
        return tb_fermi_integral(mu_in - ex, t, kT) - tb_fermi_integral(mu_out - ex, t, kT)

    def reduced_slope_weight(self, ex, mu, kT):
        """∂W/∂μ_in at μ_in = μ_out = μ: (ρ₂D ∗ −f')(μ − E_x)."""
        return tb_fermi_slope(mu - ex, self.t_par, kT)

    def reduced_range(self, lo, hi, mu_l, mu_r, kT):
        t, tail = self.t_par, FERMI_TAIL * kT
        lo = max(lo, min(mu_l, mu_r) - 4 * t - tail)
        hi = min(hi, max(mu_l, mu_r) + 4 * t + tail)
        return lo, hi, [m + d for m in (mu_l, mu_r) for d in (-4 * t, 0.0, 4 * t)]


def transverse_model(junction):
    """The transverse model of a junction (:class:`ContinuumTransverse` or
    :class:`SquareLatticeTransverse`)."""
    if junction.model == "free-electron":
        return ContinuumTransverse(junction.effective_mass if junction.transverse_separable
                                   else None)
    # The common in-plane hopping t∥ of the reduction (exact only when every element has the
    # same one): the in-plane energy is −2t∥(cos + cos), whatever the reference ``hopping``.
    t_par = junction.hopping_of(junction.left) if junction.transverse_separable else None
    return SquareLatticeTransverse(junction.hopping, junction.lattice_constant, t_par)


# -- the square lattice's transverse density of states ---------------------------------------

_TB_S, _TB_W = np.polynomial.legendre.leggauss(48)
_TB_S, _TB_W = 0.5 * (_TB_S + 1), 0.5 * _TB_W  # on [0, 1]
_GL_U, _GL_W = np.polynomial.legendre.leggauss(160)


def tb_dos(eps, t):
    """Normalised density of states of ε∥ = −2t(cos k_y a + cos k_z a), 1/eV."""
    from scipy.special import ellipkm1

    p = (np.asarray(eps, float) / (4 * t)) ** 2  # K(m) with m = 1 − p
    return np.where(p < 1, ellipkm1(np.minimum(p, 1.0)) / (2 * np.pi**2 * t), 0.0)


def tb_cumulative_dos(eps, t):
    """Fraction of the square-lattice Brillouin zone with ε∥ < eps.

    ε∥ = −2t(cos k_y a + cos k_z a);
    N(eps) = π⁻² ∫₀^π dk arccos(clip(c(k))), c(k) = −eps/2t − cos k.

    Notes
    -----
    arccos(clip(c)) is π for k < k_a (c ≤ −1), 0 for k > k_b (c ≥ 1), and
    smooth in between except for square-root behaviour at k_a and k_b.  The
    middle part is integrated with k = k_a + (k_b − k_a)(1 − cos πs)/2, whose
    Jacobian vanishes at both ends and removes the square roots, by 48-point
    Gauss–Legendre in s: accurate to ~1e-11 (checked against adaptive
    quadrature in the tests).
    """
    eps = np.asarray(eps, dtype=float)
    x = eps[..., None] / (2 * t)
    k_a = np.arccos(np.clip(1.0 - x, -1.0, 1.0))  # c(k) = −1
    k_b = np.arccos(np.clip(-1.0 - x, -1.0, 1.0))  # c(k) = +1
    width = k_b - k_a
    k = k_a + width * 0.5 * (1 - np.cos(np.pi * _TB_S))
    jac = width * 0.5 * np.pi * np.sin(np.pi * _TB_S)
    middle = (np.arccos(np.clip(-x - np.cos(k), -1.0, 1.0)) * jac) @ _TB_W
    return (np.pi * k_a[..., 0] + middle) / np.pi**2


def tb_fermi_integral(mu_minus_e, t, kT):
    """∫ dε ρ₂D(ε) f(E_x + ε) for f at μ; N(μ − E_x) at T = 0.

    At T > 0, by parts: ∫ N(ε) (−f')(E_x + ε) dε over ε = μ − E_x + kT u.
    """
    x = np.asarray(mu_minus_e, dtype=float)
    if kT == 0:
        return tb_cumulative_dos(x, t)
    u = FERMI_TAIL * _GL_U
    kernel = 0.25 / np.cosh(u / 2) ** 2 * FERMI_TAIL * _GL_W
    return tb_cumulative_dos(x[..., None] + kT * u, t) @ kernel


def tb_fermi_slope(mu_minus_e, t, kT):
    """∂/∂μ of :func:`tb_fermi_integral`: ρ₂D(μ − E_x) at T = 0, its −f' smoothing at T > 0.

    At T > 0 by parts, with the kernel k(u) = ¼ sech²(u/2) of −f' in u = (E − μ)/kT:
    (1/kT) ∫ N(μ − E_x + kT u) ¼ sech²(u/2) tanh(u/2) du, smooth in N (no log singularity).
    """
    x = np.asarray(mu_minus_e, dtype=float)
    if kT == 0:
        return tb_dos(x, t)
    u = FERMI_TAIL * _GL_U
    kernel = 0.25 / np.cosh(u / 2) ** 2 * np.tanh(u / 2) * FERMI_TAIL * _GL_W
    return tb_cumulative_dos(x[..., None] + kT * u, t) @ kernel / kT
