r"""Elastic dephasing and spin relaxation in the self-consistent Born approximation (SCBA).

DESIGN.md §8: a metal layer may carry momentum (phase) relaxation and spin flip, given as
rates ħ/τ_m, ħ/τ_sf in eV.  Each scattering site j of the chain gets the local self-energies
of a δ-correlated (white-noise) disorder, in the self-consistent Born approximation

.. math::
    \Sigma_j = D^m_j \hat G_j + D^s_j \sum_{\alpha} \sigma_\alpha \hat G_j \sigma_\alpha,
    \qquad \hat G_j = \int\!\frac{d^2k_\parallel}{(2\pi)^2}\, G_{jj}(E, k_\parallel),

on the retarded function and, with Gⁿ in place of G, on the in-scattering function
(Golizadeh-Mojarad and Datta, PRB 75, 081301(R) (2007); Lake et al., J. Appl. Phys. 81,
7845 (1997)).  The strengths D (eV² nm²) follow from the rates by the golden rule
(:func:`mtj_kwant.analytic.relaxation.scba_self_energy_strengths`).  A local self-energy
couples every k∥ of one energy, so the k∥ integral is a fixed quadrature that is solved
self-consistently as a whole (:class:`ScbaEnergy`); energies stay independent.

**The level shift.**  Writing Ĝ = ĝ₀ + ĝ·σ, the Hermitian part of the scalar term, Re ĝ₀,
is a spin-independent level shift of the site.  For a δ-correlated disorder in the
continuum it diverges (as 1/a on the lattice along x, logarithmically in the k∥ integral):
it renormalises the band bottoms, which the junction file gives.  It is removed: Σ uses
ĝ₀ − c_j with c_j = Re ĝ₀,j at a reference energy (the junction's Fermi energy), a constant
per site that keeps Σ(z) analytic.  A scalar Hermitian term commutes with every block, so
the sum rules below are unchanged by it; in the bulk of a free-electron metal Re ĝ₀ does
not depend on the energy above the band bottom, so the choice of the reference energy
matters only near band edges.  The spin-dependent Hermitian part (a renormalised exchange
field) converges and is kept: without it the momentum scattering would exert a spurious
torque on the spin accumulation.

**Sum rules.**  With S_j the local sources, the continuity equation at site j reads

.. math::
    I^\beta_{j-1} - I^\beta_j = \tau^\beta_j + L^\beta_j,\qquad
    \tau_j = \Delta_j\, m_j\times s_j,\qquad
    L^\beta_j = i\,\mathrm{Tr}\,\sigma_\beta\big(\Sigma_j \hat X_j - \hat X_j\Sigma_j^\dagger
        + \Sigma^{in}_j \hat G_j^\dagger - \hat G_j \Sigma^{in}_j\big)

for the particle current (β = 0: L⁰ = 0, current conservation) and the spin currents
(β = x, y, z; L the spin-flip loss, zero without spin flip), s = Tr σ X̂ the spin density
and τ the exchange torque density.  Eq. (22) of the model paper is the exchange torque
Σ_j∈free τ_j; with spin flip it differs from the spin-current difference by Σ L_j.
"""

from __future__ import annotations

import math

import numpy as np

from . import _scba

__all__ = ["ScbaEnergy", "ScbaError", "pauli", "SCBA_TOL"]

#: Default relative tolerance of the self-consistency (residual of Σ and of Σⁱⁿ relative
#: to their size); its effect on the observables enters their error estimates.
SCBA_TOL = 1e-10


class ScbaError(RuntimeError):
    """The self-consistent Born iteration did not converge."""


def pauli(x):
    """(x0, x) of 2×2 blocks (…, 4) row major: x = x0·1 + x·σ."""
    x0 = 0.5 * (x[..., 0] + x[..., 3])
    v = np.stack([0.5 * (x[..., 1] + x[..., 2]), 0.5j * (x[..., 1] - x[..., 2]),
                  0.5 * (x[..., 0] - x[..., 3])], -1)
    return x0, v


def anderson(g, x0, tol, *, depth=8, max_iter=300, what="SCBA"):
    """Fixed point x = g(x) by Anderson acceleration (type II, Walker & Ni 2011).

    Parameters
    ----------
    g : callable
        Real vector → real vector of the same shape.
    x0 : ndarray
    tol : callable
        ``tol(x)``: the allowed max |g(x) − x|.
    depth : int
        Number of previous iterates kept.
    max_iter : int

    Returns
    -------
    x, residual, iterations

    Raises
    ------
    ScbaError
        Not converged in ``max_iter`` iterations.
    """
    x = np.asarray(x0, float).copy()
    dx, df = [], []
    gx = g(x)
    f = gx - x
    for it in range(1, max_iter + 1):
        res = float(np.abs(f).max(initial=0.0))
        if res <= tol(gx):
            return gx, res, it
        if dx:
            dX, dF = np.array(dx).T, np.array(df).T
            gamma, *_ = np.linalg.lstsq(dF, f, rcond=None)
            x_new = x + f - (dX + dF) @ gamma
        else:
            x_new = x + f
        gx_new = g(x_new)
        f_new = gx_new - x_new
        dx.append(x_new - x)
        df.append(f_new - f)
        if len(dx) > depth:
            dx.pop(0)
            df.pop(0)
        x, gx, f = x_new, gx_new, f_new
    raise ScbaError(f"{what} did not converge in {max_iter} iterations "
                    f"(residual {np.abs(f).max():.3g})")


class ScbaEnergy:
    """The SCBA of a chain at one real energy on a fixed k∥ quadrature.

    Parameters
    ----------
    solver : ChainSolver
        The chain (blocks, hoppings, leads) at fixed θ, φ, bias.
    d_m, d_s : ndarray (N,)
        Strengths of the momentum and spin-flip self-energies per site (eV² nm²), with
        the k∥ measure ∫d²k∥/(2π)² in the quadrature weights.
    energy : float
        eV.
    eps : ndarray (nk,)
        Transverse energies of the nodes (eV).
    weights : ndarray (nw, nk)
        Quadrature weights (1/(eV nm²) · eV): row 0 is the rule used, the others (e.g. the
        embedded lower-order rule, per-panel rules) only evaluate sums for error estimates.
    shift : ndarray (N,) or None
        The removed scalar level shift c_j (eV²·nm²-weighted Re ĝ₀, module docstring);
        None: Re ĝ₀ at this energy (the reference).

    Attributes
    ----------
    sigma : ndarray (N, 4) complex
        Converged retarded self-energy of the scatterers (eV).
    iterations, residual
        Of the retarded self-consistency.
    """

    def __init__(self, solver, d_m, d_s, energy, eps, weights, shift=None, sigma0=None,
                 tol=SCBA_TOL):
        self.solver = solver
        onsite, slope, t, _ = solver._kernel_args()
        self.onsite, self.slope, self.t = onsite, slope, t
        self.n = n = onsite.shape[0]
        self.d_m, self.d_s = np.asarray(d_m, float), np.asarray(d_s, float)
        self.sites = np.flatnonzero((self.d_m > 0) | (self.d_s > 0))
        self.a = (self.d_m + 3 * self.d_s)[self.sites]
        self.b = (self.d_m - self.d_s)[self.sites]
        self.energy = float(energy)
        self.eps = np.ascontiguousarray(eps, float)
        self.weights = np.atleast_2d(np.asarray(weights, float))
        nk = len(self.eps)
        z = np.full(nk, self.energy, complex)
        sl, sr = (lead.self_energy(z, self.eps)[0].reshape(nk, 4) for lead in solver.leads)
        self.sig_l, self.sig_r = np.ascontiguousarray(sl), np.ascontiguousarray(sr)
        self.gam_l = np.ascontiguousarray(1j * (sl - sl[:, [0, 2, 1, 3]].conj()))
        self.gam_r = np.ascontiguousarray(1j * (sr - sr[:, [0, 2, 1, 3]].conj()))
        self.gl = np.empty((nk, n, 4), complex)
        self.gr = np.empty_like(self.gl)
        self.gd = np.empty_like(self.gl)
        self.tol = tol
        self._solve_retarded(shift, sigma0)

    # -- the retarded self-consistency ---------------------------------------------------
    def _sigma_of(self, gloc, shift):
        """Σ at the scattering sites (ns, 4) from the k∥ sums Ĝ there (ns, 4)."""
        g0 = 0.5 * (gloc[:, 0] + gloc[:, 3])
        c = g0.real if shift is None else shift
        out = self.b[:, None] * gloc
        diag = (self.a - self.b) * g0 - self.a * c
        out[:, 0] += diag
        out[:, 3] += diag
        return out, g0.real

    def _sweep(self, sig_sites):
        sig = np.zeros((self.n, 4), complex)
        sig[self.sites] = sig_sites
        _scba.retarded(complex(self.energy), self.eps, self.onsite, self.slope, self.t,
                       sig, self.sig_l, self.sig_r, self.gl, self.gr, self.gd)
        return sig

    def _solve_retarded(self, shift, sigma0):
        ns = len(self.sites)
        self.shift_used = shift
        w = self.weights[0]
        if ns == 0:
            self.sigma = self._sweep(np.zeros((0, 4), complex))
            self.iterations, self.residual = 0, 0.0
            self.reference_shift = np.zeros(0)
            return
        sh = None if shift is None else np.asarray(shift, float)[self.sites]

        def g(x):
            sig = x.view(complex).reshape(ns, 4)
            self._sweep(sig)
            gloc = np.tensordot(w, self.gd[:, self.sites], 1)
            new, _ = self._sigma_of(gloc, sh)
            return np.ascontiguousarray(new).view(float).ravel()

        x0 = np.zeros(ns * 8) if sigma0 is None else \
            np.ascontiguousarray(np.asarray(sigma0, complex)[self.sites]).view(float).ravel()
        x, self.residual, self.iterations = anderson(
            g, x0, lambda v: self.tol * max(np.abs(v).max(initial=0.0), 1e-300))
        self.sigma = self._sweep(x.view(complex).reshape(ns, 4))
        gloc = np.tensordot(w, self.gd[:, self.sites], 1)
        self.reference_shift = 0.5 * (gloc[:, 0] + gloc[:, 3]).real

    def shift_array(self):
        """The removed level shift c_j (N,) at this energy (0 off the scattering sites)."""
        out = np.zeros(self.n)
        out[self.sites] = self.reference_shift
        return out

    # -- the in-scattering (window) solution ----------------------------------------------
    def window(self, lead):
        """Gⁿ of the states injected by ``lead`` with the scatterers' in-scattering solved.

        X = G(Γ_lead + Σⁱⁿ[X̂])G†, Σⁱⁿ_j = D^m X̂_j + D^s Σ_α σ_α X̂_j σ_α: linear in X̂,
        solved by Anderson acceleration (GMRES-like for a linear map).

        Returns
        -------
        dict with (per weight row w)
            ``bond`` (nw, N − 1, 4): particle and spin currents on every bond;
            ``site`` (nw, N, 4): Tr σ_β X̂_j (density, spin density);
            ``loss`` (nw, N, 3): spin-flip loss L_j (module docstring);
            ``source`` (nw, N): the particle source L⁰_j (0 at self-consistency);
            ``iterations``, ``residual``.
        """
        ns, nk = len(self.sites), len(self.eps)
        w = self.weights[0]
        xloc = np.empty((nk, self.n, 4), complex)
        bond = np.empty((nk, self.n - 1, 4))
        use_l, use_r = lead == 0, lead == 1

        def run(src_sites):
            src = np.zeros((self.n, 4), complex)
            src[self.sites] = src_sites
            _scba.lesser(self.t, src, self.gam_l, self.gam_r, use_l, use_r,
                         self.gl, self.gr, self.gd, xloc, bond)
            return src

        def sig_in(xs):
            x0 = 0.5 * (xs[:, 0] + xs[:, 3])
            out = self.b[:, None] * xs
            diag = (self.a - self.b) * x0
            out[:, 0] += diag
            out[:, 3] += diag
            return out

        if ns:
            def g(x):
                run(x.view(complex).reshape(ns, 4))
                xs = np.tensordot(w, xloc[:, self.sites], 1)
                return np.ascontiguousarray(sig_in(xs)).view(float).ravel()
            x, residual, iterations = anderson(
                g, np.zeros(ns * 8), lambda v: self.tol * max(np.abs(v).max(initial=0.0),
                                                              1e-300))
            src_sites = x.view(complex).reshape(ns, 4)
        else:
            src_sites, residual, iterations = np.zeros((0, 4), complex), 0.0, 0
        src = run(src_sites)
        W = self.weights
        xs = np.tensordot(W, xloc, 1)              # (nw, N, 4)
        gs = np.tensordot(W, self.gd, 1)
        site = np.stack([(xs[..., 0] + xs[..., 3]).real, (xs[..., 1] + xs[..., 2]).real,
                         (1j * (xs[..., 1] - xs[..., 2])).real, (xs[..., 0] - xs[..., 3]).real],
                        -1)
        # L = i Tr σ (Σ X − X Σ† + Σⁱⁿ G† − G Σⁱⁿ) per weight row (sources of row 0)
        sig = self.sigma[None]
        srcb = src[None]
        comm = (_mul4(sig, xs) - _mul4(xs, _dag4(sig)) + _mul4(srcb, _dag4(gs))
                - _mul4(gs, srcb))
        tr = 1j * np.stack([comm[..., 0] + comm[..., 3], comm[..., 1] + comm[..., 2],
                            1j * (comm[..., 1] - comm[..., 2]), comm[..., 0] - comm[..., 3]], -1)
        return {"bond": np.tensordot(W, bond, 1), "site": site, "loss": tr[..., 1:].real,
                "source": tr[..., 0].real, "iterations": iterations, "residual": residual,
                "xloc": xs, "gloc": gs}


def _mul4(a, b):
    """Products of 2×2 blocks (…, 4) row major."""
    return np.stack([a[..., 0] * b[..., 0] + a[..., 1] * b[..., 2],
                     a[..., 0] * b[..., 1] + a[..., 1] * b[..., 3],
                     a[..., 2] * b[..., 0] + a[..., 3] * b[..., 2],
                     a[..., 2] * b[..., 1] + a[..., 3] * b[..., 3]], -1)


def _dag4(a):
    return a[..., [0, 2, 1, 3]].conj()
