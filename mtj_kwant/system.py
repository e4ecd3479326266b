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

import math
from dataclasses import dataclass

import numpy as np
import tinyarray as ta

from .model import Chain, Junction, magnetization_direction
from .units import HBAR2_2ME

__all__ = ["JunctionSystem", "make_system", "SIGMA", "transverse_energy"]

#: Identity and Pauli matrices σ0, σx, σy, σz.
SIGMA = tuple(
    np.array(m, dtype=complex)
    for m in ([[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]])
)
_S = [ta.array(s) for s in SIGMA]


def _exchange_block(mag, half_delta):
    """−(Δ/2) m·σ as a 2×2 tinyarray."""
    return -half_delta * (mag[0] * _S[1] + mag[1] * _S[2] + mag[2] * _S[3])


def transverse_energy(model, params, hopping=None, lattice_constant=None):
    """The transverse-energy parameter eps_par (eV) for Kwant ``params``.

    Free electron: ħ²k∥²/(2 m_e) (divided by the site mass in units of m_e on
    each site); tight binding: ε∥ = −2t(cos k_y a + cos k_z a).
    """
    if model == "free-electron":
        return HBAR2_2ME * params["k_par"] ** 2
    a = lattice_constant
    return -2 * hopping * (math.cos(params["k_y"] * a) + math.cos(params["k_z"] * a))


@dataclass(frozen=True)
class JunctionSystem:
    """A finalized Kwant system for a junction, with the site bookkeeping.

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
    fsyst: object
    order: np.ndarray
    lattice: object

    @property
    def model(self):
        return self.junction.model

    def params(self, *, theta, phi=0.0, bias=0.0, eps_par=0.0):
        """Kwant ``params`` for angles (rad), bias (V) and transverse energy (eV).

        ``eps_par`` is the model's transverse-energy variable (see
        :func:`transverse_energy`); it is converted to ``k_par`` or
        ``k_y = k_z``.
        """
        out = dict(theta=float(theta), phi=float(phi), bias=float(bias))
        if self.model == "free-electron":
            if eps_par < 0:
                raise ValueError(f"eps_par must be >= 0 for the free-electron model, got {eps_par}")
            out["k_par"] = math.sqrt(eps_par / HBAR2_2ME)
        else:
            t = self.junction.hopping
            c = -eps_par / (4 * t)
            if not -1 <= c <= 1:
                raise ValueError(
                    f"eps_par must lie in the transverse band [-4t, 4t] = [{-4 * t}, {4 * t}] eV"
                )
            k = math.acos(c) / self.junction.lattice_constant
            out["k_y"] = out["k_z"] = k
        return out

    def eps_par(self, params):
        """Transverse energy (eV) from Kwant ``params``."""
        j = self.junction
        return transverse_energy(j.model, params, j.hopping, j.lattice_constant)

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
    chain = junction.chain(pad=pad)
    model = junction.model
    a = chain.step
    import kwant  # imported here: the rest of the package (and its workers) need not load it

    lat = kwant.lattice.chain(a, norbs=2, name="x")

    onsite0 = chain.onsite0
    bias_profile = chain.bias_profile
    transverse = chain.transverse
    half_delta = 0.5 * chain.delta
    fixed = [ta.array(m) for m in chain.magnetization]
    free = chain.free
    t, a_lat = junction.hopping, junction.lattice_constant

    def site_block(i, eps, bias, m_free):
        e = onsite0[i] + bias * bias_profile[i] + eps * transverse[i]
        mag = m_free if free[i] else fixed[i]
        return e * _S[0] + _exchange_block(mag, half_delta[i])

    if model == "free-electron":
        def onsite(site, theta, phi, bias, k_par):
            m = magnetization_direction(theta, phi)
            return site_block(site.tag[0], HBAR2_2ME * k_par * k_par, bias, m)
    else:
        def onsite(site, theta, phi, bias, k_y, k_z):
            m = magnetization_direction(theta, phi)
            eps = -2 * t * (math.cos(k_y * a_lat) + math.cos(k_z * a_lat))
            return site_block(site.tag[0], eps, bias, m)

    syst = kwant.Builder()
    n = chain.n_sites
    for i in range(n):
        syst[lat(i)] = onsite
    for i in range(n - 1):
        syst[lat(i + 1), lat(i)] = -chain.hopping[i] * _S[0]

    for side, lead_data in zip((-1, +1), chain.leads):
        lead = kwant.Builder(kwant.TranslationalSymmetry((side * a,)))
        lead[lat(0)] = _lead_onsite(model, lead_data, t, a_lat)
        lead[lat(1), lat(0)] = -lead_data["hopping"] * _S[0]
        syst.attach_lead(lead)

    fsyst = syst.finalized()
    id_by_site = {s: k for k, s in enumerate(fsyst.sites)}
    order = np.array([id_by_site[lat(i)] for i in range(n)])
    return JunctionSystem(junction=junction, chain=chain, fsyst=fsyst, order=order, lattice=lat)


def _lead_onsite(model, lead, t, a_lat):
    e0, bp, tr = lead["onsite0"], lead["bias_profile"], lead["transverse"]
    hd = 0.5 * lead["delta"]
    fixed = ta.array(lead["magnetization"])
    is_free = lead["free"]

    def block(eps, bias, theta, phi):
        mag = magnetization_direction(theta, phi) if is_free else fixed
        return (e0 + bias * bp + eps * tr) * _S[0] + _exchange_block(mag, hd)

    if model == "free-electron":
        def onsite(site, theta, phi, bias, k_par):
            return block(HBAR2_2ME * k_par * k_par, bias, theta, phi)
    else:
        def onsite(site, theta, phi, bias, k_y, k_z):
            eps = -2 * t * (math.cos(k_y * a_lat) + math.cos(k_z * a_lat))
            return block(eps, bias, theta, phi)
    return onsite
