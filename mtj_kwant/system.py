"""Kwant systems for layered junctions: the only module that touches ``kwant.Builder``.

:func:`make_system` turns a :class:`~mtj_kwant.model.Junction` into a finalized
Kwant system whose parameters are the run-time quantities, so one finalized
system serves a whole sweep:

- free electron: ``theta``, ``phi`` (rad), ``bias`` (V), ``k_par`` (1/nm);
- tight binding: ``theta``, ``phi``, ``bias``, ``k_y``, ``k_z`` (1/nm).

The lattice models are those of DESIGN.md §3; the Hamiltonian of each site is
built from the :class:`~mtj_kwant.model.Chain` of the junction.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import tinyarray as ta

from .model import Chain, Junction, magnetization_direction
from .transverse import transverse_model

__all__ = ["JunctionSystem", "make_system", "SIGMA"]

#: Identity and Pauli matrices σ0, σx, σy, σz.
SIGMA = tuple(
    np.array(m, dtype=complex)
    for m in ([[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]])
)
_S = [ta.array(s) for s in SIGMA]


def _exchange_block(mag, half_delta):
    """−(Δ/2) m·σ as a 2×2 tinyarray."""
    return -half_delta * (mag[0] * _S[1] + mag[1] * _S[2] + mag[2] * _S[3])


@dataclass(frozen=True)
class JunctionSystem:
    """A junction's chain and its finalized Kwant system, with the site bookkeeping.

    The Kwant system is built on first use (``fsyst``, ``order``, ``lattice``):
    the batched solvers assemble their blocks from the chain's site data
    (:meth:`blocks`, the same data :func:`make_system` gives Kwant, equal to
    Kwant's Hamiltonian to round-off: :meth:`check_blocks`), so a run that
    needs no Kwant solver does not import Kwant (about 0.27 s).

    Attributes
    ----------
    junction : Junction
    chain : Chain
        Site-resolved data; site j of the chain is ``lattice(j)``.
    fsyst : kwant.system.FiniteSystem
        Lead 0 is the left (pinned) electrode, lead 1 the right one.
    order : ndarray of int
        ``order[j]`` is the index in ``fsyst.sites`` of chain site j.
    lattice : kwant.lattice.Monatomic
    """

    junction: Junction
    chain: Chain

    @functools.cached_property
    def _kwant(self):
        return _build_kwant(self.junction, self.chain)

    @property
    def fsyst(self):
        return self._kwant[0]

    @property
    def order(self):
        return self._kwant[1]

    @property
    def lattice(self):
        return self._kwant[2]

    @property
    def model(self):
        return self.junction.model

    def params(self, *, theta, phi=0.0, bias=0.0, eps_par=0.0):
        """Kwant ``params`` for angles (rad), bias (V) and transverse energy (eV).

        ``eps_par`` is the transverse-energy variable of the junction's
        transverse model (:mod:`mtj_kwant.transverse`); it is converted to
        ``k_par`` or ``k_y = k_z``.
        """
        out = dict(theta=float(theta), phi=float(phi), bias=float(bias))
        out.update(self.transverse.momenta(eps_par))
        return out

    @functools.cached_property
    def transverse(self):
        """The junction's transverse model (:func:`mtj_kwant.transverse.transverse_model`),
        built once (``params`` reads it for every Kwant evaluation)."""
        return transverse_model(self.junction)

    def eps_par(self, params):
        """Transverse energy (eV) from Kwant ``params``."""
        return self.transverse.energy(params)

    def hamiltonian(self, params):
        """Dense scattering-region Hamiltonian in chain order (2N × 2N, eV)."""
        h = self.fsyst.hamiltonian_submatrix(params=params, sparse=False)
        idx = (2 * self.order[:, None] + np.arange(2)).ravel()
        return h[np.ix_(idx, idx)]

    def chain_blocks(self, params):
        """The chain's 2×2 blocks from the sparse Hamiltonian (memory O(N), not O(N²)).

        Returns
        -------
        onsite : ndarray (N, 2, 2)
            H_jj in chain order (eV).
        hopping : ndarray (N − 1, 2, 2)
            H_{j+1, j}.
        beyond : float
            Largest |element| coupling sites more than one apart (0 for a chain).
        """
        h = self.fsyst.hamiltonian_submatrix(params=params, sparse=True).tocoo()
        n = len(self.order)
        chain_index = np.empty(n, int)
        chain_index[self.order] = np.arange(n)
        si, oi = chain_index[h.row // 2], h.row % 2
        sj, oj = chain_index[h.col // 2], h.col % 2
        onsite = np.zeros((n, 2, 2), complex)
        hopping = np.zeros((max(n - 1, 0), 2, 2), complex)
        on, down = si == sj, si == sj + 1
        np.add.at(onsite, (si[on], oi[on], oj[on]), h.data[on])
        np.add.at(hopping, (sj[down], oi[down], oj[down]), h.data[down])
        beyond = np.abs(h.data[np.abs(si - sj) > 1]).max(initial=0.0)
        return onsite, hopping, float(beyond)

    def blocks(self, *, theta, phi=0.0, bias=0.0, d_eps=1.0):
        """The chain's blocks at angles (rad) and bias (V): what :meth:`chain_blocks` reads.

        The onsite blocks are affine in the free direction m, the bias and ε∥ (DESIGN.md §3:
        H_jj = (U_j + V b_j + ε∥ c_j) − (Δ_j/2) m_j·σ): the affine basis is built once
        from the chain's site data, what :func:`make_system` gives Kwant's value
        functions (equal to Kwant's Hamiltonian to round-off for every bundled junction,
        ``tests/test_engine.py``; :meth:`check_blocks` compares them for any junction), and
        assembled here with NumPy in O(N).  Kwant's own reads evaluate its value functions
        site by site in Python (about 13 µs per site and read) and need Kwant imported.
        ``d_eps`` is not used (kept for the callers' protocol: the slope is exact).

        Returns
        -------
        onsite : ndarray (N, 2, 2)
            H_jj at ε∥ = 0 (eV).
        slope : ndarray (N, 2, 2)
            dH_jj/dε∥ (c_j · 1).
        hopping : ndarray (N − 1, 2, 2)
        beyond : float
            As in :meth:`chain_blocks` (0: a nearest-neighbour chain).
        """
        a0, mag, b, slope, hop, beyond = self._chain_basis
        m = magnetization_direction(theta, phi)
        onsite = a0 + np.tensordot(m, mag, 1) + bias * b
        return onsite, slope, hop, beyond

    def check_blocks(self, *, theta=0.7, phi=0.3, bias=0.13, d_eps=None):
        """Largest |blocks − Kwant's Hamiltonian| over the chain, relative to the blocks' scale.

        One read of the Kwant system at a generic point (θ, φ, V) and transverse energy
        ``d_eps`` (default: 1 eV free electron, −t tight binding) against :meth:`blocks`;
        the hoppings too.  Round-off (~1e-15) when the chain data and the Kwant system
        agree.
        """
        if d_eps is None:
            d_eps = 1.0 if self.model == "free-electron" else -self.junction.hopping
        direct, hop_direct, beyond = self.chain_blocks(
            self.params(theta=theta, phi=phi, bias=bias, eps_par=d_eps))
        onsite, slope, hop, _ = self.blocks(theta=theta, phi=phi, bias=bias)
        scale = max(1.0, float(np.abs(direct).max()))
        dev = max(np.abs(onsite + d_eps * slope - direct).max(initial=0.0),
                  np.abs(hop - hop_direct).max(initial=0.0), beyond)
        return float(dev / scale)

    @functools.cached_property
    def _chain_basis(self):
        """(A0, M (3, N, 2, 2), B, S, hopping, beyond) from the chain's site data, as
        :func:`make_system` builds H: H_jj = A0 + m·M (free sites) + V B + ε∥ S."""
        c = self.chain
        n = c.n_sites
        eye = SIGMA[0]
        half = 0.5 * np.asarray(c.delta, float)
        free = np.asarray(c.free, bool)
        fixed_m = np.where(free[:, None], 0.0, np.asarray(c.magnetization, float))
        a0 = np.asarray(c.onsite0, float)[:, None, None] * eye
        a0 = a0 - half[:, None, None] * np.einsum("jc,cab->jab", fixed_m, np.stack(SIGMA[1:]))
        mag = np.zeros((3, n, 2, 2), complex)
        for k in range(3):
            mag[k, free] = -half[free, None, None] * SIGMA[k + 1]
        b = np.asarray(c.bias_profile, float)[:, None, None] * eye
        slope = np.asarray(c.transverse, float)[:, None, None] * eye
        hop = -np.asarray(c.hopping, float)[:, None, None] * eye
        return a0, mag, b, slope, hop, 0.0

    def lead_blocks(self, side, *, theta, phi=0.0, bias=0.0):
        """(h, dh, t) of electrode ``side`` (0 left, 1 right) from the chain's lead data.

        The cell Hamiltonian at ε∥ = 0 and its ε∥ derivative (2 × 2, eV) and the hopping
        between cells (eV), as :func:`make_system` builds the Kwant lead.
        """
        lead = self.chain.leads[side]
        mag = magnetization_direction(theta, phi) if lead["free"] else lead["magnetization"]
        exchange = -0.5 * lead["delta"] * sum(float(mag[k]) * SIGMA[k + 1] for k in range(3))
        h = (lead["onsite0"] + bias * lead["bias_profile"]) * SIGMA[0] + exchange
        return h, lead["transverse"] * SIGMA[0], float(lead["hopping"])


def make_system(junction, pad=2):
    """Build the finalized Kwant system of a junction.

    Parameters
    ----------
    junction : Junction
    pad : int or (int, int)
        Electrode sites kept in the scattering region at each end (or at the
        left and at the right end).

    Returns
    -------
    JunctionSystem
    """
    return JunctionSystem(junction=junction, chain=junction.chain(pad=pad))


def _build_kwant(junction, chain):
    """(finalized Kwant system, order, lattice) of a junction's chain."""
    import kwant  # imported here: the rest of the package (and its workers) need not load it

    a = chain.step
    lat = kwant.lattice.chain(a, norbs=2, name="x")

    onsite0 = chain.onsite0
    bias_profile = chain.bias_profile
    transverse = chain.transverse
    half_delta = 0.5 * chain.delta
    fixed = [ta.array(m) for m in chain.magnetization]
    free = chain.free

    def site_block(i, eps, bias, m_free):
        e = onsite0[i] + bias * bias_profile[i] + eps * transverse[i]
        mag = m_free if free[i] else fixed[i]
        return e * _S[0] + _exchange_block(mag, half_delta[i])

    tm = transverse_model(junction)
    onsite = tm.kwant_value(lambda site, eps, bias, theta, phi: site_block(
        site.tag[0], eps, bias, magnetization_direction(theta, phi)))

    syst = kwant.Builder()
    n = chain.n_sites
    for i in range(n):
        syst[lat(i)] = onsite
    for i in range(n - 1):
        syst[lat(i + 1), lat(i)] = -chain.hopping[i] * _S[0]

    for side, lead_data in zip((-1, +1), chain.leads):
        lead = kwant.Builder(kwant.TranslationalSymmetry((side * a,)))
        lead[lat(0)] = _lead_onsite(tm, lead_data)
        lead[lat(1), lat(0)] = -lead_data["hopping"] * _S[0]
        syst.attach_lead(lead)

    fsyst = syst.finalized()
    id_by_site = {s: k for k, s in enumerate(fsyst.sites)}
    order = np.array([id_by_site[lat(i)] for i in range(n)])
    return fsyst, order, lat


def _lead_onsite(tm, lead):
    e0, bp, tr = lead["onsite0"], lead["bias_profile"], lead["transverse"]
    hd = 0.5 * lead["delta"]
    fixed = ta.array(lead["magnetization"])
    is_free = lead["free"]

    def block(site, eps, bias, theta, phi):
        mag = magnetization_direction(theta, phi) if is_free else fixed
        return (e0 + bias * bp + eps * tr) * _S[0] + _exchange_block(mag, hd)

    return tm.kwant_value(block)
