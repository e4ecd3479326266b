"""Exact continuum scattering for the free-electron junction model (a test helper).

An independent route to the continuum limit of the package's free-electron model
(DESIGN.md §1, §3).  Nothing from ``mtj_kwant``'s physics code is imported: the
module only reads the fields of a :class:`mtj_kwant.model.Junction` (energies,
thicknesses, potentials, exchange, masses, directions, which element is free) and
takes its constants from :mod:`scipy.constants`.

Model
-----
Per transverse wave vector k∥ (q = k∥², nm⁻²) the spinor ψ(x) obeys::

    −C d/dx (1/m) dψ/dx + [C q/m + U(x) + φ(x) − (Δ/2) n(x)·σ] ψ = E ψ,

C = ħ²/(2 m_e) (eV nm²), m in units of m_e, piecewise constant in regions: the
left electrode (x < 0), the layers (from x = 0, left to right) and the right
electrode (x > x_R).  ψ and ψ'/m are continuous at every interface.  The bias
shift φ is +V/2 left of the barrier stack, −V/2 right of it and linear inside it
(DESIGN.md §1).  Layers with a non-constant potential (a [left, right] pair, a
callable, or the bias drop) are cut into slices of equal width h with the
potential at each slice's midpoint (the exponential midpoint rule: error O(h²),
even in h, so the Richardson combination (4 f(h/2) − f(h))/3 is O(h⁴)).

Numerical scheme
----------------
With y = (ψ, ψ'/m) ∈ C⁴ the equation is y' = A y, and the transfer matrix of a
constant slab of width w is exact: in the spin eigenbasis of n·σ it is
[[cosh κw, m sinh(κw)/κ], [κ sinh(κw)/m, cosh κw]], with κ² = m(U + φ − E ∓ Δ/2)/C + q
(entire functions of κ², so no trouble where κ → 0).  y is continuous across
interfaces, so the mass and exchange steps need no extra matching matrix.  Slabs
are grouped into chunks over which the growth e^{Σ|Re κ|w} stays below e²; each
chunk's transfer matrix is turned into a scattering matrix with respect to a
fictitious reference medium (free electrons, m = 1, wave number K_REF, zero
length), and the chunks are composed by the Redheffer star product.  The
scattering matrix of a Hermitian chunk between propagating reference media is
unitary, so the composition is stable for any barrier thickness (checked on a
5 nm barrier with κd ≈ 45).  The wave function at a cut (a layer boundary or a
requested position) follows from the scattering matrices left and right of it.

Electrode channels are the spin eigenstates along the electrode's direction
(majority first); propagating channels are normalised to unit particle flux
(ħ = 1 flux units: j = Im ψ† ψ'/m in nm⁻¹ per m_e, the same normalisation for
the spin current j_σ = Im ψ† σ ψ'/m).

Integrated observables
----------------------
At temperature 0, in SI and with the package's conventions (DESIGN.md §1)::

    J = (e²/h) × 10¹⁸ ∫dE [f_L − f_R] ∫ dq/(4π) Σ_s T_s(E, q)        (A/m²)
    T = (e²/h) × 10¹⁸ ∫dE [f_L − f_R] ∫ dq/(4π) Σ_s τ_s(E, q)        ((ħ/2e) A/m²)

with ∫d²k∥/(2π)² = ∫ dq/(4π), τ_s the spin current entering the free layer minus
the one leaving it (free right electrode: the spin current entering it minus its
component along m), μ_L = E_F + V/2, μ_R = E_F − V/2.

Quadrature: vectorised adaptive Gauss–Kronrod (G10/K21) with the error estimate
|K21 − G10| summed over panels (conservative for smooth integrands).  Every
interval between channel thresholds (where a sqrt(q − q_th) appears) is mapped by
q = q_a + (q_b − q_a) sin²(πs/2), which makes the integrand smooth at both ends.
Narrow quasi-bound resonances (a free layer closed towards the cap) narrower than
the initial panels could be missed; the test junctions avoid them (the cap is
open wherever the free layer is).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.constants as sc

__all__ = [
    "HBAR2_2ME",
    "E2_H",
    "PER_NM2",
    "continuum_profile",
    "exact_point",
    "exact_transmission",
    "exact_q_integrand",
    "exact_linear_response",
    "exact_window",
    "adaptive_gk",
    "GK21_NODES",
    "GK21_WEIGHTS",
    "G10_WEIGHTS",
]

#: ħ²/(2 m_e) in eV nm².
HBAR2_2ME = sc.hbar**2 / (2 * sc.m_e) / sc.e * 1e18
#: e²/h in A/eV (current of one fully transmitting channel per eV of bias window).
E2_H = sc.e**2 / sc.h
#: 1/nm² in 1/m².
PER_NM2 = 1e18
#: Wave number (1/nm) of the zero-length reference medium between chunks.
K_REF = 5.0
#: Largest Σ|Re κ| w of a chunk (its transfer matrix grows at most like e^GROWTH).
GROWTH = 2.0
#: Default slice width (nm) for layers with a non-constant potential.
SLICE_WIDTH = 0.01

_SIGMA = np.array(
    [[[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=complex
)
_I2 = np.eye(2, dtype=complex)
#: Reference-medium basis: y = (ψ, ψ'/m) = B (a; b), a right-moving, b left-moving.
_B = np.block([[_I2, _I2], [1j * K_REF * _I2, -1j * K_REF * _I2]])


# ----------------------------------------------------------------------------- structure
@dataclass(frozen=True)
class Medium:
    """A homogeneous region: mass (m_e), potential incl. bias shift (eV), Δ (eV), direction."""

    mass: float
    potential: float
    delta: float
    direction: tuple


@dataclass(frozen=True)
class Piece:
    """A slab of the scattering region: a Medium of finite width (nm) starting at x0 (nm)."""

    x0: float
    width: float
    medium: Medium


@dataclass(frozen=True)
class Profile:
    """The continuum junction at given angles and bias.

    ``cuts[k]`` is the index of the first piece right of ``cut_x[k]``; the layer
    boundaries are always cuts (``layer_cuts[i]`` is the cut at the left edge of
    layer i, ``layer_cuts[-1]`` the one at x_R).
    """

    left: Medium
    right: Medium
    pieces: tuple
    cut_x: tuple
    cuts: tuple
    layer_cuts: tuple
    free: object  # layer index or "right"
    m: np.ndarray
    sliced: bool


def _unit(v):
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def _direction_of(element, p, m):
    if element.free:
        return tuple(m)
    if element.magnetization is not None:
        return tuple(_unit(element.magnetization))
    return tuple(p)


def continuum_profile(junction, theta, phi=0.0, bias=0.0, *, slice_width=SLICE_WIDTH,
                      positions=()):
    """The piecewise-constant continuum junction.

    Parameters
    ----------
    junction : mtj_kwant.model.Junction
        Free-electron junction; only its fields are read.
    theta, phi : float
        Free-element direction m = (sinθ cosφ, sinθ sinφ, cosθ), radians.
    bias : float
        V (DESIGN.md §1 electrostatics).
    slice_width : float
        nm; largest slice of a layer whose potential is not constant.
    positions : sequence of float
        Extra cut positions x (nm, 0 < x < x_R) where spin currents are wanted.
    """
    if junction.model != "free-electron":
        raise ValueError("continuum_exact handles the free-electron model only")
    m = np.array([math.sin(theta) * math.cos(phi), math.sin(theta) * math.sin(phi),
                  math.cos(theta)])
    p = _unit(junction.left.magnetization)
    layers = junction.layers
    edges = np.concatenate([[0.0], np.cumsum([lay.thickness for lay in layers])])
    barriers = [i for i, lay in enumerate(layers) if lay.kind == "barrier"]
    xa, xb = edges[barriers[0]], edges[barriers[-1] + 1]

    def shift(x):  # electrostatic potential energy of the bias, eV
        x = np.asarray(x, dtype=float)
        inside = bias / 2 - bias * (x - xa) / (xb - xa)
        return np.where(x <= xa, bias / 2, np.where(x >= xb, -bias / 2, inside))

    def medium(el, potential):
        return Medium(float(junction.mass_of(el)), float(potential), float(el.exchange),
                      _direction_of(el, p, m))

    left = medium(junction.left, junction.left.potential + bias / 2)
    right = medium(junction.right, junction.right.potential - bias / 2)
    pieces = []
    sliced = False
    for i, lay in enumerate(layers):
        x0, x1 = edges[i], edges[i + 1]
        d = x1 - x0
        pot = lay.potential
        in_stack = barriers[0] <= i <= barriers[-1]
        constant = (not callable(pot)) and not (isinstance(pot, tuple) and pot[0] != pot[1]) \
            and not (in_stack and bias != 0)
        if constant:
            value = pot[0] if isinstance(pot, tuple) else pot
            pieces.append(Piece(x0, d, medium(lay, value + float(shift(0.5 * (x0 + x1))))))
            continue
        sliced = True
        n = max(1, math.ceil(d / slice_width - 1e-9))
        h = d / n
        local = (np.arange(n) + 0.5) * h
        if callable(pot):
            values = np.broadcast_to(np.asarray(pot(local), dtype=float), local.shape)
        elif isinstance(pot, tuple):
            values = pot[0] + (pot[1] - pot[0]) * local / d
        else:
            values = np.full(n, float(pot))
        values = values + shift(x0 + local)
        for k in range(n):
            pieces.append(Piece(x0 + k * h, h, medium(lay, values[k])))

    # Cuts: layer boundaries and requested positions; split pieces there.
    x_right = float(edges[-1])
    cut_x = sorted(set([float(x) for x in edges] + [float(x) for x in positions]))
    if cut_x[0] < 0 or cut_x[-1] > x_right + 1e-12:
        raise ValueError(f"positions must lie in [0, {x_right}] nm")
    split = []
    for pc in pieces:
        a, b = pc.x0, pc.x0 + pc.width
        inner = [x for x in cut_x if a + 1e-12 < x < b - 1e-12]
        bounds = [a, *inner, b]
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            split.append(Piece(lo, hi - lo, pc.medium))
    starts = np.array([pc.x0 for pc in split] + [x_right])
    cuts = tuple(int(np.argmin(np.abs(starts - x))) for x in cut_x)
    layer_cuts = tuple(cut_x.index(min(cut_x, key=lambda c: abs(c - e))) for e in edges)
    return Profile(left=left, right=right, pieces=tuple(split), cut_x=tuple(cut_x), cuts=cuts,
                   layer_cuts=layer_cuts, free=junction.free_index, m=m, sliced=sliced)


# ----------------------------------------------------------------------------- linear algebra
def _spin_basis(direction):
    """Columns: majority (along n) and minority spinors."""
    n = np.asarray(direction, dtype=float)
    th = math.acos(max(-1.0, min(1.0, n[2])))
    ph = math.atan2(n[1], n[0])
    c, s = math.cos(th / 2), math.sin(th / 2)
    return np.array([[c, -np.exp(-1j * ph) * s], [np.exp(1j * ph) * s, c]], dtype=complex)


def _projectors(direction):
    ns = np.einsum("i,iab->ab", np.asarray(direction, dtype=float), _SIGMA[1:])
    return np.array([(_I2 + ns) / 2, (_I2 - ns) / 2])


def _signs():
    return np.array([-0.5, 0.5])  # κ² ∝ U − E ∓ Δ/2: majority first


def _kappa2(med, E, q):
    """κ² (nm⁻²) of the two spin bands, shape (n, 2): majority, minority."""
    return med.mass * (med.potential - E[:, None] + _signs() * med.delta) / HBAR2_2ME + q[:, None]


def _electrode_basis(med, E, q):
    """y-basis of an electrode, columns [right maj, right min, left maj, left min].

    Returns (Y, open): propagating columns are normalised to unit flux.
    """
    k2 = -_kappa2(med, E, q)
    open_ = k2 > 0
    k = np.where(open_, np.sqrt(np.abs(k2)), 1j * np.sqrt(np.abs(k2))).astype(complex)
    k = np.where(np.abs(k) < 1e-300, 1e-300, k)
    norm = 1 / np.sqrt(np.abs(k) / med.mass)
    U = _spin_basis(med.direction)
    n = len(E)
    Y = np.zeros((n, 4, 4), dtype=complex)
    for s in range(2):
        col = U[:, s][None, :] * norm[:, s, None]
        dcol = (1j * k[:, s] / med.mass)[:, None] * col
        Y[:, :2, s] = col
        Y[:, 2:, s] = dcol
        Y[:, :2, 2 + s] = col
        Y[:, 2:, 2 + s] = -dcol
    return Y, open_


def _interface(YA, YB):
    """S-matrix between two bases at one point: YA (a_A; b_A) = YB (a_B; b_B).

    Returns blocks (r, t', t, r'): b_A = r a_A + t' b_B, a_B = t a_A + r' b_B.
    """
    YA = np.broadcast_to(YA, np.broadcast_shapes(YA.shape, YB.shape))
    YB = np.broadcast_to(YB, YA.shape)
    lhs = np.concatenate([YA[..., 2:], -YB[..., :2]], axis=-1)
    rhs = np.concatenate([-YA[..., :2], YB[..., 2:]], axis=-1)
    S = np.linalg.solve(lhs, rhs)
    return S[..., :2, :2], S[..., :2, 2:], S[..., 2:, :2], S[..., 2:, 2:]


def _inv2(a):
    det = a[..., 0, 0] * a[..., 1, 1] - a[..., 0, 1] * a[..., 1, 0]
    out = np.empty_like(a)
    out[..., 0, 0] = a[..., 1, 1]
    out[..., 1, 1] = a[..., 0, 0]
    out[..., 0, 1] = -a[..., 0, 1]
    out[..., 1, 0] = -a[..., 1, 0]
    return out / det[..., None, None]


def _star(S1, S2):
    """Redheffer star product: S1 on the left, S2 on the right."""
    r1, tp1, t1, rp1 = S1
    r2, tp2, t2, rp2 = S2
    D = _inv2(_I2 - rp1 @ r2)
    Dt1 = D @ t1
    t = t2 @ Dt1
    r = r1 + tp1 @ (r2 @ Dt1)
    F = _inv2(_I2 - r2 @ rp1)
    tp = tp1 @ (F @ tp2)
    rp = rp2 + t2 @ (D @ (rp1 @ tp2))
    return r, tp, t, rp


def _slab_functions(z2):
    """cosh z, sinh(z)/z, z sinh z for z² (entire in z²)."""
    z = np.sqrt(z2.astype(complex))
    small = np.abs(z2) < 1e-6
    zs = np.where(small, 1.0, z)
    shz = np.where(small, 1 + z2 / 6 + z2**2 / 120, np.sinh(zs) / zs)
    return np.cosh(z), shz, z * np.sinh(z)


def _transfer(med, width, E, q):
    """Transfer matrix (n, 4, 4) of y = (ψ, ψ'/m) across a slab, and its growth max|Re κ|w."""
    z2 = _kappa2(med, E, q) * width**2
    ch, shz, zsh = _slab_functions(z2)
    P = _projectors(med.direction)

    def blk(c):
        return c[:, 0, None, None] * P[0] + c[:, 1, None, None] * P[1]

    M = np.empty((len(E), 4, 4), dtype=complex)
    M[:, :2, :2] = blk(ch)
    M[:, 2:, 2:] = M[:, :2, :2]
    M[:, :2, 2:] = blk(med.mass * width * shz)
    M[:, 2:, :2] = blk(zsh / (med.mass * width))
    growth = float(np.max(np.abs(np.sqrt(z2.astype(complex)).real))) if len(E) else 0.0
    return M, growth


def _chunk_s(M):
    """S-matrix (reference media on both sides) of a chunk with transfer matrix M."""
    return _interface(M @ _B, _B)


def _growth(med, width, E, q):
    z2 = _kappa2(med, E, q) * width**2
    return float(np.max(np.sqrt(np.maximum(z2, 0.0))))


def _chunks(profile, E, q):
    """S-matrices of the chunks, in order, and the chunk index of every cut."""
    chunks = []
    cut_chunk = {}
    cut_at = {}
    for k, idx in enumerate(profile.cuts):
        cut_at.setdefault(idx, []).append(k)
    M_acc, g_acc = None, 0.0

    def flush():
        nonlocal M_acc, g_acc
        if M_acc is not None:
            chunks.append(_chunk_s(M_acc))
        M_acc, g_acc = None, 0.0

    for i, pc in enumerate(profile.pieces):
        if i in cut_at:
            flush()
            for k in cut_at[i]:
                cut_chunk[k] = len(chunks)
        g = _growth(pc.medium, pc.width, E, q)
        if g > GROWTH:  # a thick slab: equal sub-slabs, one S-matrix repeated
            flush()
            n_sub = math.ceil(g / GROWTH)
            M, _ = _transfer(pc.medium, pc.width / n_sub, E, q)
            S = _chunk_s(M)
            chunks.extend([S] * n_sub)
            continue
        if g_acc + g > GROWTH:
            flush()
        M, _ = _transfer(pc.medium, pc.width, E, q)
        M_acc = M if M_acc is None else M @ M_acc
        g_acc += g
    flush()
    n = len(profile.pieces)
    for k in cut_at.get(n, []):
        cut_chunk[k] = len(chunks)
    return chunks, cut_chunk


def _solve(profile, E, q):
    """Left-incoming scattering states at points (E, q) (1D arrays, same length).

    Returns a dict: ``open_left``, ``open_right`` (n, 2) bool; ``t`` (n, 2, 2)
    [right channel, left channel] and ``r`` (n, 2, 2) [left out, left in],
    flux-normalised for open channels; ``currents`` (n, n_cuts, 4, 2): particle
    flux and spin-current components (x, y, z) of each left-incoming channel at
    every cut.
    """
    E = np.atleast_1d(np.asarray(E, dtype=float))
    q = np.broadcast_to(np.atleast_1d(np.asarray(q, dtype=float)), E.shape)
    YL, open_l = _electrode_basis(profile.left, E, q)
    YR, open_r = _electrode_basis(profile.right, E, q)
    S_lint = _interface(YL, _B[None])
    S_rint = _interface(_B[None], YR)
    chunks, cut_chunk = _chunks(profile, E, q)
    n_cuts = len(profile.cuts)
    left_at = {}
    S = S_lint
    for c in range(len(chunks) + 1):
        for k, ck in cut_chunk.items():
            if ck == c:
                left_at[k] = S
        if c < len(chunks):
            S = _star(S, chunks[c])
    S_total = _star(S, S_rint)
    right_at = {}
    S = S_rint
    for c in range(len(chunks), -1, -1):
        for k, ck in cut_chunk.items():
            if ck == c:
                right_at[k] = S
        if c > 0:
            S = _star(chunks[c - 1], S)
    currents = np.empty((len(E), n_cuts, 4, 2))
    for k in range(n_cuts):
        _, _, tL, rpL = left_at[k]
        rR = right_at[k][0]
        a = _inv2(_I2 - rpL @ rR) @ tL  # right-moving reference amplitudes, per channel
        b = rR @ a
        psi = a + b
        dpsi = 1j * K_REF * (a - b)  # ψ'/m (reference medium: m = 1)
        currents[:, k] = np.einsum("nas,kab,nbs->nks", psi.conj(), _SIGMA, dpsi).imag
    r, _, t, _ = S_total
    return dict(open_left=open_l, open_right=open_r, t=t, r=r, currents=currents)


# ----------------------------------------------------------------------------- per point
def _observables(profile, sol):
    """Per-channel transmission, reflection, torque (flux units) from a _solve result."""
    ol, orr = sol["open_left"], sol["open_right"]
    T = np.einsum("nij,ni->nj", np.abs(sol["t"]) ** 2, orr) * ol
    R = np.einsum("nij,ni->nj", np.abs(sol["r"]) ** 2, ol) * ol
    cur = sol["currents"] * ol[:, None, None, :]
    lc = profile.layer_cuts
    if profile.free == "right":
        js = cur[:, lc[-1], 1:, :]  # (n, 3, 2)
        along = np.einsum("i,nis->ns", profile.m, js)
        torque = js - profile.m[None, :, None] * along[:, None, :]
        interfacial = js
    else:
        i = profile.free
        torque = cur[:, lc[i], 1:, :] - cur[:, lc[i + 1], 1:, :]
        interfacial = cur[:, lc[i], 1:, :]
    return T, R, torque, interfacial, cur


def _point(junction, energy, k_par, theta, phi, bias, slice_width, positions):
    prof = continuum_profile(junction, theta, phi, bias, slice_width=slice_width,
                             positions=positions)
    sol = _solve(prof, np.array([float(energy)]), np.array([float(k_par) ** 2]))
    T, R, torque, interfacial, cur = _observables(prof, sol)
    ol, orr = sol["open_left"][0], sol["open_right"][0]
    t = sol["t"][0][np.ix_(orr, ol)]
    eig = np.linalg.svd(t, compute_uv=False) ** 2 if t.size else np.zeros(0)
    out = dict(open_left=ol, open_right=orr, transmission=T[0], reflection=R[0],
               eigenvalues=np.sort(eig)[::-1], t=sol["t"][0], cut_x=np.array(prof.cut_x),
               currents=cur[0], torque=torque[0], interfacial=interfacial[0])
    return out, prof.sliced


def exact_point(junction, energy, k_par, theta, phi=0.0, bias=0.0, *, slice_width=SLICE_WIDTH,
                positions=(), richardson=True):
    """Everything about the left-incoming states at one (E, k∥).

    Parameters
    ----------
    energy : float
        Total energy E (eV).
    k_par : float
        Transverse wave number (1/nm).
    theta, phi : float
        Free-element direction (rad).
    bias : float
        V.
    slice_width : float
        nm, for layers whose potential varies.
    positions : sequence of float
        Extra cuts (nm) where the currents are reported.
    richardson : bool
        When something is sliced, return (4 f(h/2) − f(h))/3 (slicing error O(h⁴)).

    Returns
    -------
    dict
        ``open_left``, ``open_right`` (2,) bool (majority, minority of each
        electrode); ``transmission``, ``reflection`` (2,) per left channel (unit
        incoming flux; 0 for a closed channel); ``eigenvalues`` (transmission
        eigenvalues, descending, min(n_open_left, n_open_right) of them); ``t``
        (2, 2) flux-normalised transmission amplitudes [right channel, left
        channel] (no Richardson); ``cut_x`` (n_cuts,) nm and ``currents``
        (n_cuts, 4, 2): particle flux and spin current (x, y, z) per left
        channel at each cut; ``torque``, ``interfacial`` (3, 2) per left channel
        (flux units, ħ = 1: Im ψ† σ ψ'/m with m in m_e and ψ' in 1/nm).
    """
    args = (junction, energy, k_par, theta, phi, bias)
    out, sliced = _point(*args, slice_width, positions)
    if richardson and sliced:
        fine, _ = _point(*args, slice_width / 2, positions)
        for key in ("transmission", "reflection", "eigenvalues", "currents", "torque",
                    "interfacial"):
            out[key] = (4 * fine[key] - out[key]) / 3
    return out


def exact_transmission(junction, energy, k_par, theta, phi=0.0, bias=0.0, *,
                       slice_width=SLICE_WIDTH, richardson=True):
    """Transmission eigenvalues (descending) for the left-incoming open channels.

    The eigenvalues of t†t with t restricted to the open channels, i.e.
    min(n_open_left, n_open_right) values (the others vanish).  E in eV, k∥ in
    1/nm, angles in rad, bias in V; see :func:`exact_point`.
    """
    return exact_point(junction, energy, k_par, theta, phi, bias, slice_width=slice_width,
                       richardson=richardson)["eigenvalues"]


# ----------------------------------------------------------------------------- quadrature
#: Gauss–Kronrod 21-point rule on [−1, 1] (QUADPACK qk21): nodes ±x, Kronrod weights,
#: and the weights of the embedded 10-point Gauss rule on the odd-index nodes.
_XGK = np.array([
    0.995657163025808080735527280689003, 0.973906528517171720077964012084452,
    0.930157491355708226001207180059508, 0.865063366688984510732096688423493,
    0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
    0.562757134668604683339000099272694, 0.433395394129247190799265943165784,
    0.294392862701460198131126603103866, 0.148874338981631210884826001129720, 0.0])
_WGK = np.array([
    0.011694638867371874278064396062192, 0.032558162307964727478818972459390,
    0.054755896574351996031381300244580, 0.075039674810919952767043140916190,
    0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
    0.123491976262065851077568886695120, 0.134709217311473325928054001771707,
    0.142775938577060080797094273138717, 0.147739104901338491374841515972068,
    0.149445554002916905664936468389821])
_WG = np.array([
    0.066671344308688137593568809893332, 0.149451349150580593145776339657697,
    0.219086362515982043995534934228163, 0.269266719309996355091226921569469,
    0.295524224714752870173892994651338])
GK21_NODES = np.concatenate([-_XGK[:-1], _XGK[::-1]])
GK21_WEIGHTS = np.concatenate([_WGK[:-1], _WGK[::-1]])
_gw = np.zeros(11)
_gw[1:10:2] = _WG
G10_WEIGHTS = np.concatenate([_gw[:-1], _gw[::-1]])


def adaptive_gk(f, edges, tolerance, *, max_panels=20000, n_init=1):
    """Adaptive vectorised G10/K21 quadrature of a vector-valued function.

    Parameters
    ----------
    f : callable
        ``f(x)`` for a 1D array x returns an array (len(x), n_q).
    edges : sequence of float
        Initial panel edges (breakpoints).
    tolerance : callable
        ``tolerance(integral)`` -> (n_q,) absolute tolerances.
    n_init : int
        Each initial panel is first cut into n_init equal panels.

    Returns
    -------
    value, error : ndarray (n_q,)
        Integral and error estimate Σ_panels |K21 − G10|.
    info : dict
        ``converged``, ``n_eval``, ``n_panels``.
    """
    edges = np.asarray(edges, dtype=float)
    lo = np.concatenate([np.linspace(a, b, n_init + 1)[:-1] for a, b in zip(edges[:-1], edges[1:])])
    hi = np.concatenate([np.linspace(a, b, n_init + 1)[1:] for a, b in zip(edges[:-1], edges[1:])])
    n_eval = 0

    def evaluate(lo, hi):
        nonlocal n_eval
        half = 0.5 * (hi - lo)
        x = (0.5 * (hi + lo))[:, None] + half[:, None] * GK21_NODES[None, :]
        y = np.asarray(f(x.ravel()))
        n_eval += x.size
        y = y.reshape(len(lo), len(GK21_NODES), -1)
        k = np.einsum("pnq,n->pq", y, GK21_WEIGHTS) * half[:, None]
        g = np.einsum("pnq,n->pq", y, G10_WEIGHTS) * half[:, None]
        return k, np.abs(k - g)

    val, err = evaluate(lo, hi)
    converged = False
    while True:
        total, total_err = val.sum(0), err.sum(0)
        tol = np.maximum(np.asarray(tolerance(total), dtype=float), 1e-300)
        if np.all(total_err <= tol):
            converged = True
            break
        if len(lo) >= max_panels:
            break
        score = np.max(err / tol, axis=1)
        split = score > 0.5 * score.max() if len(lo) > 200 else score * len(lo) > 0.25
        split |= score >= np.sort(score)[-1]
        mid = 0.5 * (lo[split] + hi[split])
        nlo = np.concatenate([lo[split], mid])
        nhi = np.concatenate([mid, hi[split]])
        nv, ne = evaluate(nlo, nhi)
        keep = ~split
        lo = np.concatenate([lo[keep], nlo])
        hi = np.concatenate([hi[keep], nhi])
        val = np.concatenate([val[keep], nv])
        err = np.concatenate([err[keep], ne])
    return val.sum(0), err.sum(0), dict(converged=converged, n_eval=n_eval, n_panels=len(lo))


def _thresholds(profile, E):
    """q (nm⁻²) where electrode channels open/close at energy E: left (2,), right (2,)."""
    def th(med):
        return med.mass * (E - med.potential - _signs() * med.delta) / HBAR2_2ME
    return th(profile.left), th(profile.right)


def _q_map(breaks):
    """Map s ∈ [0, n] to q with q = q_j + (q_{j+1} − q_j) sin²(π(s − j)/2) on panel j."""
    breaks = np.asarray(breaks, dtype=float)

    def q_of(s):
        j = np.clip(np.floor(s).astype(int), 0, len(breaks) - 2)
        u = s - j
        dq = breaks[j + 1] - breaks[j]
        q = breaks[j] + dq * np.sin(0.5 * np.pi * u) ** 2
        jac = dq * 0.5 * np.pi * np.sin(np.pi * u)
        return q, jac

    return q_of


def exact_q_integrand(profile, E, q):
    """Per-point integrand vector at (E, q) arrays: columns
    [Σ_s T_s, Σ_s R_s, torque x y z, interfacial x y z, currents at cuts (4 × n_cuts)]."""
    sol = _solve(profile, E, q)
    T, R, torque, interfacial, cur = _observables(profile, sol)
    n = len(np.atleast_1d(E))
    return np.concatenate([T.sum(1)[:, None], R.sum(1)[:, None], torque.sum(2),
                           interfacial.sum(2), cur.sum(3).reshape(n, -1)], axis=1)


def _columns(profile):
    n_cuts = len(profile.cuts)
    return dict(T=0, R=1, torque=slice(2, 5), interfacial=slice(5, 8),
                currents=slice(8, 8 + 4 * n_cuts))


def _tolerance_fn(profile, rtol, n_blocks=1, spin_floor=1e-2):
    """Absolute tolerances for ``n_blocks`` stacked column blocks of ``exact_q_integrand``.

    Charge columns (Σ T, Σ R, particle flux at cuts): rtol × |Σ T|; spin columns:
    rtol × max(max|torque|, spin_floor |Σ T|) (a floor tied to the current scale, so
    that a vanishing torque, e.g. collinear, converges against the natural scale).
    """
    col = _columns(profile)
    ncol = col["currents"].stop

    def tol(total):
        out = np.empty(total.shape)
        for b in range(n_blocks):
            blk = total[b * ncol:(b + 1) * ncol]
            t_scale = abs(blk[col["T"]])
            s_scale = max(np.abs(blk[col["torque"]]).max(), spin_floor * t_scale)
            o = np.full(ncol, rtol * s_scale)
            o[[col["T"], col["R"]]] = rtol * t_scale
            o[col["currents"].start::4] = rtol * t_scale
            out[b * ncol:(b + 1) * ncol] = o
        return out + 1e-300

    return tol


def _q_integral(profiles, E, rtol, n_init):
    """∫ dq F(profile; E, q) over the open left channels, one column block per profile.

    All profiles must share their electrodes (they differ only in slicing).
    Returns (value, error, info) with value and error of shape (len(profiles) × n_col,).
    """
    prof = profiles[0]
    left_th, right_th = _thresholds(prof, E)
    q_max = left_th.max()
    ncol = _columns(prof)["currents"].stop * len(profiles)
    if q_max <= 0:
        return np.zeros(ncol), np.zeros(ncol), dict(converged=True, n_eval=0, n_panels=0)
    pts = np.concatenate([left_th, right_th])
    breaks = np.unique(np.concatenate([[0.0, q_max], pts[(pts > 0) & (pts < q_max)]]))
    q_of = _q_map(breaks)

    def f(s):
        q, jac = q_of(s)
        Es = np.full_like(q, E)
        out = np.concatenate([exact_q_integrand(p, Es, q) for p in profiles], axis=1)
        return out * jac[:, None]

    return adaptive_gk(f, np.arange(len(breaks)), _tolerance_fn(prof, rtol, len(profiles)),
                       n_init=n_init)


def _to_si(val):
    return val * E2_H * PER_NM2 / (4 * math.pi)


def _unpack(profile, val, err):
    col = _columns(profile)
    si, si_err = _to_si(val), _to_si(err)
    return dict(
        current=float(si[col["T"]]), current_error=float(si_err[col["T"]]),
        reflected=float(si[col["R"]]),
        torque=si[col["torque"]], torque_error=si_err[col["torque"]],
        interfacial=si[col["interfacial"]], interfacial_error=si_err[col["interfacial"]],
        cut_x=np.array(profile.cut_x),
        currents=si[col["currents"]].reshape(-1, 4),
        currents_error=si_err[col["currents"]].reshape(-1, 4),
    )


def exact_linear_response(junction, theta, phi=0.0, *, rtol=1e-10, n_init=4, positions=()):
    """Zero-bias conductance and window torkance per area, continuum, T = 0.

    G = dJ/dV = (e²/h) ∫ d²k∥/(2π)² Σ_s T_s(E_F, k∥) and dT_window/dV at V = 0,
    which at T = 0 is the same integral of the torque per unit incoming flux at
    E_F (the window [μ_R, μ_L] has width V; its integrand at V = 0 needs no bias
    profile).

    Parameters
    ----------
    theta, phi : float
        Free-element direction (rad).
    rtol : float
        Relative tolerance of the k∥ quadrature (torque components relative to
        the larger one, with a floor of 1e-2 × the current scale).
    positions : sequence of float
        Extra cuts (nm) where the spin conductance is reported.

    Returns
    -------
    dict
        ``conductance`` (S/m²) and ``conductance_error``; ``torkance`` (3,)
        ((ħ/2e) A/m² per V) and ``torkance_error`` (3,); ``interfacial`` (3,)
        (the spin-current torkance entering the free element) and its error;
        ``reflected`` (S/m², reflected flux; conductance + reflected = the
        incoming flux); ``cut_x`` (n_cuts,) nm and ``spin_conductance``
        (n_cuts, 4): particle and spin-current (x, y, z) torkances at the cuts,
        with ``spin_conductance_error``; ``converged``, ``n_eval``.  Errors are
        the quadrature's conservative Σ|K21 − G10|.
    """
    prof = continuum_profile(junction, theta, phi, 0.0, positions=positions)
    val, err, info = _q_integral([prof], junction.fermi_energy, rtol, n_init)
    out = _unpack(prof, val, err)
    return dict(conductance=out["current"], conductance_error=out["current_error"],
                torkance=out["torque"], torkance_error=out["torque_error"],
                interfacial=out["interfacial"], interfacial_error=out["interfacial_error"],
                reflected=out["reflected"], cut_x=out["cut_x"],
                spin_conductance=out["currents"], spin_conductance_error=out["currents_error"],
                converged=info["converged"], n_eval=info["n_eval"])


def exact_window(junction, bias, theta, phi=0.0, *, rtol=1e-8, slice_width=SLICE_WIDTH,
                 richardson=True, n_init=2):
    """Window part at finite bias and T = 0: current density and torque on the free element.

    ∫_{μ_R}^{μ_L} dE ∫ d²k∥/(2π)² of the left-incoming states (DESIGN.md §1): the
    full (E, k∥) integral, valid with per-layer masses.  Layers across which the
    potential varies (the barrier stack at V ≠ 0, trapezoids) are sliced with
    width h = ``slice_width``; with ``richardson`` the integrand is also
    evaluated at h/2 and the value is (4 f(h/2) − f(h))/3 (O(h⁴)).  The outer
    E integral has breakpoints at the electrodes' band bottoms (sin² map); the
    inner k∥ integral is done to rtol/10.

    Parameters
    ----------
    bias : float
        V; μ_L = E_F + V/2, μ_R = E_F − V/2.
    theta, phi : float
        Free-element direction (rad).

    Returns
    -------
    dict
        ``current_density`` (A/m²) and ``current_density_error``; ``torque``
        (3,) and ``interfacial`` (3,) ((ħ/2e) A/m²) with ``torque_error``,
        ``interfacial_error`` (quadrature, conservative); ``slicing_error``
        (dict with ``current_density``, ``torque``: |f(h/2) − f(h)|/3, the
        slicing error of the h/2 value and so a generous bound on that of the
        Richardson value; zero when nothing is sliced); ``converged``,
        ``n_eval``.
    """
    mu_l = junction.fermi_energy + bias / 2
    mu_r = junction.fermi_energy - bias / 2
    prof_h = continuum_profile(junction, theta, phi, bias, slice_width=slice_width)
    profiles = [prof_h]
    if richardson and prof_h.sliced:
        profiles.append(continuum_profile(junction, theta, phi, bias,
                                          slice_width=slice_width / 2))
    ncol = _columns(prof_h)["currents"].stop
    lo, hi = min(mu_l, mu_r), max(mu_l, mu_r)
    sign = 1.0 if mu_l >= mu_r else -1.0
    zero = np.zeros(3)
    if lo == hi:
        return dict(current_density=0.0, current_density_error=0.0, torque=zero,
                    torque_error=zero, interfacial=zero, interfacial_error=zero,
                    slicing_error=dict(current_density=0.0, torque=zero), converged=True,
                    n_eval=0)
    edges = [lo, hi]
    for med in (prof_h.left, prof_h.right):
        for s in _signs():
            e = med.potential + s * med.delta  # band bottom (k∥ = 0 threshold)
            if lo < e < hi:
                edges.append(e)
    breaks = np.unique(edges)
    e_of = _q_map(breaks)
    n_eval = 0
    inner_ok = True

    def f(s):
        nonlocal n_eval, inner_ok
        E, jac = e_of(s)
        out = np.empty((len(s), ncol * len(profiles)))
        for i, (e, w) in enumerate(zip(E, jac)):
            v, _, info = _q_integral(profiles, e, rtol / 10, n_init)
            n_eval += info["n_eval"]
            inner_ok &= info["converged"]
            out[i] = v * w
        return out

    val, err, info = adaptive_gk(f, np.arange(len(breaks)),
                                 _tolerance_fn(prof_h, rtol, len(profiles)), n_init=1)
    val = sign * val
    blocks = [_unpack(prof_h, val[b * ncol:(b + 1) * ncol], err[b * ncol:(b + 1) * ncol])
              for b in range(len(profiles))]
    if len(blocks) == 2:
        coarse, fine = blocks

        def rich(key):
            return (4 * np.asarray(fine[key]) - np.asarray(coarse[key])) / 3

        def rich_err(key):  # errors of independent-looking blocks, added with their weights
            return (4 * np.asarray(fine[key]) + np.asarray(coarse[key])) / 3

        out = {k: rich(k) for k in ("current", "torque", "interfacial")}
        out.update({k: rich_err(k) for k in ("current_error", "torque_error",
                                             "interfacial_error")})
        slicing = dict(current_density=float(abs(fine["current"] - coarse["current"]) / 3),
                       torque=np.abs(fine["torque"] - coarse["torque"]) / 3)
    else:
        out = blocks[0]
        slicing = dict(current_density=0.0, torque=zero)
    return dict(current_density=float(out["current"]),
                current_density_error=float(out["current_error"]),
                torque=out["torque"], torque_error=out["torque_error"],
                interfacial=out["interfacial"], interfacial_error=out["interfacial_error"],
                slicing_error=slicing, converged=bool(info["converged"] and inner_ok),
                n_eval=n_eval)
