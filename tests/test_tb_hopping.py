"""Tight binding with per-layer and per-electrode hoppings (DESIGN.md §3).

Every element may set its own ``hopping`` t_e (in-plane and along x) and an
``interface_hopping`` for the bond to its left neighbour (default √(t_left t_right)).
Site j then sees the in-plane energy −2t_j(cos k_y a + cos k_z a) = (t_j/t) ε∥, so the
(E, ε∥) integrand no longer depends on E − ε∥ alone unless every element has the same
in-plane hopping; the window part is then integrated nested over (E, ε∥).

The tests: input and messages; the default reproduces the uniform model bit for bit; the
Kwant Hamiltonian is the model of DESIGN.md §3 and the batched solver agrees with Kwant's
scattering states; invariants of the integrated torques; the nested ε∥ route against a
direct Brillouin-zone sum, and against the exact reduction where that applies.
"""

import math
import textwrap
import tomllib

import numpy as np
import pytest

from mtj_kwant.integrate import bias_point
from mtj_kwant.model import (Electrode, Junction, JunctionError, Layer, junction_from_dict,
                             junction_to_dict, junction_with, load_junction,
                             magnetization_direction)
from mtj_kwant.solvers import ChainSolver, KwantSolver
from mtj_kwant.sweep import torque_components
from mtj_kwant.system import SIGMA, make_system
from mtj_kwant.units import E_OVER_H, PER_NM2

from .conftest import SYSTEMS, random_junction
from .test_solvers import random_setting

THETA, PHI = 1.1, 0.7  # a general direction: no symmetry makes a component vanish
FLUX = E_OVER_H * PER_NM2

TB = textwrap.dedent("""\
    name = "tb with element hoppings"
    model = "tight-binding"
    fermi_energy = -2.3
    hopping = 1.0
    lattice_constant = 0.3

    [left]
    potential = 0.0
    exchange = 1.0
    magnetization = [0, 0, 1]
    hopping = 1.1

    [[layer]]
    kind = "barrier"
    thickness = 3
    potential = 4.0
    hopping = 0.6
    interface_hopping = 0.5

    [[layer]]
    kind = "metal"
    thickness = 3
    potential = 0.1
    exchange = 1.2
    free = true
    hopping = 0.9

    [right]
    potential = 0.0
    exchange = 0.0
    hopping = 1.2
    interface_hopping = 0.7
    """)

FE = textwrap.dedent("""\
    name = "fe"
    model = "free-electron"
    fermi_energy = 3.0
    lattice_spacing = 0.025

    [left]
    potential = 0.0
    exchange = 2.0
    magnetization = [0, 0, 1]

    [[layer]]
    kind = "barrier"
    thickness = 0.5
    potential = 4.0

    [right]
    potential = 0.0
    exchange = 2.0
    free = true
    """)


def write(tmp_path, text):
    path = tmp_path / "j.toml"
    path.write_text(text)
    return path


def fif_hoppings():
    """F/I/F, free right electrode: barrier, interface and electrodes with their own t."""
    return Junction(
        name="tb F/I/F, element hoppings", model="tight-binding", fermi_energy=-2.3, hopping=1.0,
        lattice_constant=0.3,
        left=Electrode(potential=0.0, exchange=1.0, magnetization=(0, 0, 1)),
        layers=[Layer(kind="barrier", thickness=3, potential=4.0, hopping=0.6,
                      interface_hopping=0.5)],
        right=Electrode(potential=0.2, exchange=1.4, free=True, hopping=1.3))


def fifn_hoppings():
    """F/I/F/N with a three-monolayer free layer; every element has its own t."""
    return junction_from_dict(tomllib.loads(TB))


def one_in_plane_hopping():
    """All in-plane hoppings 0.8 ≠ the junction's t = 1 (reduction exact), interfaces differ."""
    return Junction(
        name="tb, one in-plane hopping", model="tight-binding", fermi_energy=-2.3, hopping=1.0,
        lattice_constant=0.3,
        left=Electrode(potential=0.0, exchange=0.8, magnetization=(0, 0, 1), hopping=0.8),
        layers=[Layer(kind="barrier", thickness=3, potential=4.0, hopping=0.8,
                      interface_hopping=0.5)],
        right=Electrode(potential=0.1, exchange=1.2, free=True, hopping=0.8,
                        interface_hopping=0.6))


def random_tb_junction(rng):
    """A random tight-binding junction of conftest with random element and interface hoppings."""
    j = random_junction(rng, "tight-binding")
    changes = {"left.hopping": rng.uniform(0.6, 1.4), "right.hopping": rng.uniform(0.6, 1.4),
               "right.interface_hopping": rng.uniform(0.4, 1.4)}
    for i in range(len(j.layers)):
        changes[f"layer[{i}].hopping"] = rng.uniform(0.6, 1.4)
        if rng.random() < 0.5:
            changes[f"layer[{i}].interface_hopping"] = rng.uniform(0.4, 1.4)
    return junction_with(j, changes)


# ----------------------------------------------------------------- (a) input and messages
def test_file_hoppings_give_the_bonds_and_transverse_coefficients_of_design():
    """Own t inside an element, interface_hopping (default √(t_l t_r)) between elements."""
    j = fifn_hoppings()
    c = j.chain(pad=2)
    # sites: L L | barrier ×3 | free ×3 | R R
    expected = [1.1, 0.5, 0.6, 0.6, math.sqrt(0.6 * 0.9), 0.9, 0.9, 0.7, 1.2]
    np.testing.assert_array_equal(c.hopping, expected)
    np.testing.assert_array_equal(c.transverse, [1.1, 1.1, 0.6, 0.6, 0.6, 0.9, 0.9, 0.9, 1.2, 1.2])
    np.testing.assert_array_equal(c.onsite0, [0, 0, 4, 4, 4, 0.1, 0.1, 0.1, 0, 0])
    assert [lead["hopping"] for lead in c.leads] == [1.1, 1.2]
    assert [lead["transverse"] for lead in c.leads] == [1.1, 1.2]
    assert not j.transverse_separable


def test_default_interface_hopping_is_the_geometric_mean():
    j = fif_hoppings()
    c = j.chain(pad=2)
    # left (t = 1, the junction's) | barrier 0.6 (interface 0.5 given) | right 1.3 (default)
    np.testing.assert_array_equal(c.hopping, [1.0, 0.5, 0.6, 0.6, math.sqrt(0.6 * 1.3), 1.3])
    assert j.interface_hopping_of(j.layers[0], j.right) == math.sqrt(0.6 * 1.3)
    assert j.interface_hopping_of(j.left, j.layers[0]) == 0.5


BAD = [
    ("hopping in free electron", FE.replace("potential = 4.0", "potential = 4.0\nhopping = 1.0"),
     r'layer\[0\]\.hopping: only for model = "tight-binding"; remove it'),
    ("interface in free electron", FE + "interface_hopping = 0.5\n",
     r'right\.interface_hopping: only for model = "tight-binding"; remove it'),
    ("electrode hopping in free electron",
     FE.replace("magnetization = [0, 0, 1]", "magnetization = [0, 0, 1]\nhopping = 1.0"),
     r'left\.hopping: only for model = "tight-binding"; remove it'),
    ("left interface", TB.replace("hopping = 1.1", "hopping = 1.1\ninterface_hopping = 0.5"),
     r"left\.interface_hopping: the left electrode has no left neighbour; give the bond "
     r"between it and the first layer as layer\[0\]\.interface_hopping"),
    ("negative", TB.replace("hopping = 0.6", "hopping = -0.6"),
     r"layer\[0\]\.hopping: must be positive, got -0\.6"),
    ("zero interface", TB.replace("interface_hopping = 0.5", "interface_hopping = 0"),
     r"layer\[0\]\.interface_hopping: must be positive, got 0"),
    ("string", TB.replace("hopping = 1.2", 'hopping = "big"'),
     r"right\.hopping: expected a number, got str 'big'"),
    ("nan", TB.replace("hopping = 0.9", "hopping = nan"),
     r"layer\[1\]\.hopping: must be a finite number"),
    ("typo", TB.replace("interface_hopping = 0.7", "interface_hoping = 0.7"),
     r"right\.interface_hoping: unknown key; did you mean 'interface_hopping'\?"),
]


@pytest.mark.parametrize("text, match", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_hoppings_name_file_key_and_fix(tmp_path, text, match):
    path = write(tmp_path, text)
    with pytest.raises(JunctionError, match=match) as info:
        load_junction(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message


def test_python_junctions_are_validated_like_files():
    with pytest.raises(JunctionError, match=r'layer\[0\]\.interface_hopping: only for model = '
                                            r'"tight-binding"; remove it'):
        Junction(fermi_energy=3.0, lattice_spacing=0.025,
                 left=Electrode(potential=0, exchange=1, magnetization=(0, 0, 1)),
                 layers=[Layer(kind="barrier", thickness=0.5, potential=4.0,
                               interface_hopping=0.5)],
                 right=Electrode(potential=0, exchange=1, free=True))
    with pytest.raises(JunctionError, match=r"left\.interface_hopping: the left electrode"):
        fif_hoppings().replace(left=Electrode(potential=0, exchange=1, magnetization=(0, 0, 1),
                                              interface_hopping=0.4))
    with pytest.raises(JunctionError, match=r"right\.hopping: must be positive, got -1\.0"):
        fif_hoppings().replace(right=Electrode(potential=0, exchange=1, free=True, hopping=-1))


def test_hoppings_round_trip_through_dicts_and_paths():
    j = fifn_hoppings()
    d = junction_to_dict(j)
    assert d["layer"][0]["interface_hopping"] == 0.5 and d["right"]["hopping"] == 1.2
    assert "interface_hopping" not in d["layer"][1]  # unset stays unset (default rule)
    assert junction_from_dict(d) == j
    k = junction_with(j, {"layer[0].hopping": 0.7, "layer[-1].interface_hopping": 0.8,
                          "right.interface_hopping": np.float64(0.9), "left.hopping": 1.05})
    assert (k.layers[0].hopping, k.layers[1].interface_hopping) == (0.7, 0.8)
    assert (k.right.interface_hopping, k.left.hopping) == (0.9, 1.05)
    np.testing.assert_array_equal(k.chain(pad=2).hopping,
                                  [1.05, 0.5, 0.7, 0.7, 0.8, 0.9, 0.9, 0.9, 1.2])
    with pytest.raises(JunctionError, match=r"layer\[0\]\.hopping: must be positive"):
        junction_with(j, {"layer[0].hopping": -0.7})


def test_transverse_separable_needs_one_in_plane_hopping_only():
    """Interface hoppings act along x only: they do not break the E − ε∥ reduction."""
    base = load_junction(SYSTEMS / "tb_fif.toml")
    assert base.transverse_separable
    assert one_in_plane_hopping().transverse_separable
    assert junction_with(base, {"layer[0].interface_hopping": 0.3}).transverse_separable
    assert not junction_with(base, {"right.hopping": 1.1}).transverse_separable


# ------------------------------------------------- (b) the default is the uniform model
def test_default_hoppings_reproduce_the_uniform_model_bit_for_bit():
    """Hoppings given explicitly as the junction's t change nothing, to the last bit.

    The chain of the plain file is the construction that predates per-element hoppings
    (every bond t, every transverse coefficient 1), and the window, sea and profile of
    both junctions are identical arrays.
    """
    plain = load_junction(SYSTEMS / "tb_fif.toml")
    t = plain.hopping
    explicit = junction_with(plain, {"left.hopping": t, "right.hopping": t, "layer[0].hopping": t,
                                     "layer[0].interface_hopping": t,
                                     "right.interface_hopping": t})
    a, b = plain.chain(), explicit.chain()
    np.testing.assert_array_equal(a.hopping, np.full(a.n_sites - 1, t))
    np.testing.assert_array_equal(a.transverse, np.ones(a.n_sites))
    assert [lead["hopping"] for lead in a.leads] == [t, t]
    assert [lead["transverse"] for lead in a.leads] == [1.0, 1.0]
    for key in ("hopping", "transverse", "onsite0", "bias_profile", "delta"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    ra, rb = (bias_point(make_system(j), theta=THETA, phi=PHI, bias=0.2, rtol=1e-6,
                         parts="total") for j in (plain, explicit))
    assert ra.current_density == rb.current_density
    np.testing.assert_array_equal(ra.torque, rb.torque)
    np.testing.assert_array_equal(ra.torque_total, rb.torque_total)
    pa, pb = (bias_point(make_system(j), theta=THETA, phi=PHI, bias=0.2, rtol=1e-6,
                         profile=True).profile for j in (plain, explicit))
    np.testing.assert_array_equal(pa["spin_current"], pb["spin_current"])


# ------------------------------------------- (c) the Kwant model and the batched solver
def test_kwant_hamiltonian_is_the_tight_binding_model_with_element_hoppings():
    """Kwant's matrices against DESIGN.md §3 written out here, at k_y ≠ k_z.

    Onsite ε_e − 2t_e(cos k_y a + cos k_z a) − (Δ_e/2) m_e·σ for a site of element e
    (no bias), −t on every bond with the rule of the file; the same for the leads.
    Built from the junction's fields, not from its Chain.
    """
    j = fifn_hoppings()
    js = make_system(j, pad=2)
    a, ky, kz = j.lattice_constant, 0.7 / 0.3, 2.1 / 0.3
    cos = math.cos(ky * a) + math.cos(kz * a)
    params = dict(theta=THETA, phi=PHI, bias=0.0, k_y=ky, k_z=kz)
    m = magnetization_direction(THETA, PHI)
    p = np.array(j.left.magnetization)
    sites = [j.left] * 2 + [j.layers[0]] * 3 + [j.layers[1]] * 3 + [j.right] * 2
    bonds = [1.1, 0.5, 0.6, 0.6, math.sqrt(0.6 * 0.9), 0.9, 0.9, 0.7, 1.2]

    def block(el, t):
        mag = m if el.free else np.array(el.magnetization or p)
        return ((el.potential - 2 * t * cos) * SIGMA[0]
                - 0.5 * el.exchange * sum(mi * s for mi, s in zip(mag, SIGMA[1:])))

    n = len(sites)
    h = np.zeros((n, n, 2, 2), complex)
    for i, el in enumerate(sites):
        h[i, i] = block(el, el.hopping)
    for i, t in enumerate(bonds):
        h[i + 1, i] = h[i, i + 1] = -t * SIGMA[0]
    h = h.transpose(0, 2, 1, 3).reshape(2 * n, 2 * n)
    np.testing.assert_allclose(js.hamiltonian(params), h, rtol=0, atol=1e-14)
    for lead, el in zip(js.fsyst.leads, (j.left, j.right)):
        np.testing.assert_allclose(lead.cell_hamiltonian(params=params), block(el, el.hopping),
                                   rtol=0, atol=1e-14)
        np.testing.assert_allclose(lead.inter_cell_hopping(params=params),
                                   -el.hopping * SIGMA[0], rtol=0, atol=1e-14)


@pytest.mark.parametrize("seed", range(4))
def test_batched_solver_equals_kwant_with_element_hoppings(seed):
    """Kwant scattering states = batched RGF at one (E, ε∥) point, to 1e-9 (round-off).

    As in test_solvers: fluxes on the scale of the incident flux (1 per mode), densities
    on their own scale.  Random junctions of conftest with random element hoppings in
    [0.6, 1.4] eV and interface hoppings in [0.4, 1.4] eV (measured ≤ 2e-13).  The
    charge current of both solvers is the same on every bond to 1e-9 relative (measured
    ≤ 3e-11 for currents ≥ 8e-5 here).
    """
    rng = np.random.default_rng(400 + seed)
    j = random_tb_junction(rng)
    js = make_system(j)
    settings, energy, eps = random_setting(rng, j)
    for lead in (0, 1):
        kw = KwantSolver(js, **settings).incoming(lead, [energy], [eps])
        ba = ChainSolver(js, **settings).incoming(lead, [energy], [eps])
        for key in kw:
            scale = np.abs(kw[key]).max()
            if key in ("current", "spin_current", "torque"):
                scale = max(scale, 1.0)
            np.testing.assert_allclose(ba[key], kw[key], rtol=0, atol=1e-9 * scale,
                                       err_msg=f"{key}, lead {lead}")
        for o in (kw, ba):
            cur = o["current"][0]
            np.testing.assert_allclose(cur, cur[0], rtol=1e-9, atol=1e-14)


# ------------------------------------------------------- (d) invariants of the integrals
JUNCTIONS = {"fif": fif_hoppings, "fifn": fifn_hoppings}


@pytest.mark.parametrize("name", JUNCTIONS)
def test_torque_is_perpendicular_to_m_and_total_is_reference_independent(name):
    """Window (nested: different in-plane hoppings) + nested sea, both references.

    T ⟂ m to 1e-8 of the largest component (measured ≤ 2e-10, fifn with reference 1: per
    point J_s·m passes through the free layer unchanged, up to the round-off of the
    right-incoming recursion, ~1e-11 of the incident flux against tunnelling fluxes
    ~1e-5; 1e-16 with reference 0); the
    totals of the two decompositions agree to 20 rtol of the larger component at rtol 1e-6
    (measured 4e-9 for fif, 9e-9 for fifn: no bound state in these junctions), while the
    windows differ by 0.8 and 0.16 of it, so the sea matters; the current agrees to
    20 rtol as well (measured 5e-10).
    """
    js = make_system(JUNCTIONS[name]())
    m = magnetization_direction(THETA, PHI)
    rtol = 1e-6
    a, b = (bias_point(js, theta=THETA, phi=PHI, bias=0.2, rtol=rtol, parts="total",
                       reference=ref) for ref in (0, 1))
    assert a.converged and b.converged
    scale = np.abs(a.torque_total).max()
    for r in (a, b):
        assert abs(r.torque @ m) <= 1e-8 * np.abs(r.torque).max()
        assert abs(r.torque_total @ m) <= 1e-8 * scale
    assert np.abs(a.torque - b.torque).max() > 1e-2 * scale
    assert np.abs(a.torque_total - b.torque_total).max() <= 20 * rtol * scale
    assert abs(a.current_density - b.current_density) <= 20 * rtol * abs(a.current_density)


@pytest.mark.parametrize("name", JUNCTIONS)
def test_inplane_total_vanishes_at_zero_bias(name):
    """At V = 0 the total is the equilibrium torque: T∥ = 0 (to 1e-6 of T⊥, rtol 1e-7;
    measured ≤ 1.3e-12), and both references give the same T⊥ (μ_L = μ_R: the same
    contour, so this part only guards the bookkeeping; measured identical).  The window
    is not asserted: bias_point sets it to 0 at V = 0 without integrating."""
    js = make_system(JUNCTIONS[name]())
    a, b = (bias_point(js, theta=THETA, phi=PHI, bias=0.0, rtol=1e-7, parts="total",
                       reference=ref) for ref in (0, 1))
    p = js.junction.pinned_direction
    tpar, tperp = torque_components(a.torque_total, magnetization_direction(THETA, PHI), p)
    assert a.converged and abs(tperp) > 1e6
    assert abs(tpar) <= 1e-6 * abs(tperp)
    np.testing.assert_allclose(b.torque_total, a.torque_total, rtol=0, atol=1e-6 * abs(tperp))


@pytest.mark.parametrize("name", JUNCTIONS)
@pytest.mark.parametrize("theta", [0.0, math.pi])
def test_no_torque_for_collinear_magnetizations(name, theta):
    """m ∥ p: no torque, window or total, against the current scale (DESIGN.md §3a):
    |T| ≤ 1e-9 |J| in (ħ/2e) A/m² vs A/m² (measured ≤ 3e-17)."""
    js = make_system(JUNCTIONS[name]())
    r = bias_point(js, theta=theta, phi=PHI, bias=0.2, rtol=1e-6, parts="total")
    floor = 1e-9 * abs(r.current_density)
    assert np.abs(r.torque).max() <= floor
    assert np.abs(r.torque_total).max() <= floor


# ------------------------------------------------ (e) the ε∥ route against the BZ sum
def test_nested_window_equals_a_direct_brillouin_zone_sum():
    """a⁻² ⟨∫ dE o(E, k∥)⟩_BZ summed over a k_y, k_z midpoint grid, against bias_point.

    The direct sum: 800 × 800 midpoints of the Brillouin zone (400 × 400 in the quarter
    0 < k_y, k_z < π/a: the integrand is even in each), ε∥ = −2t(cos k_y a + cos k_z a)
    per point, 6-point Gauss–Legendre over the window [μ_R, μ_L] at T = 0 and V = 20 mV;
    the integrand from the batched solver (checked against Kwant above) at each (E, k).
    bias_point integrates over ε∥ with ρ₂D (nested, since the hoppings differ), rtol 1e-8.

    The midpoint sum converges only algebraically: the integrand has square-root kinks
    where a lead channel opens.  Measured deviations at 400² quarter-zone points, for
    4-30 energy nodes: current 1e-7 to 3e-7, torque 1e-6 to 1.4e-5 of its largest
    component (at 200²: 3e-6 and 1e-4).  Tolerances: 2e-6 (current) and 5e-5 (torque).
    Ignoring the in-plane hoppings (all transverse coefficients 1) changes the current
    by a factor of about 8 and the torque by 87 times its size: the test sees them.
    """
    j = fif_hoppings()
    js = make_system(j)
    bias = 0.02
    r = bias_point(js, theta=THETA, phi=PHI, bias=bias, rtol=1e-8)
    assert r.converged
    cs = ChainSolver(js, theta=THETA, phi=PHI, bias=bias)
    bond = cs.chain.free_bonds[0]  # the spin current entering the free electrode
    t, a = j.hopping, j.lattice_constant
    mu_l, mu_r = j.fermi_energy + bias / 2, j.fermi_energy - bias / 2
    x, w = np.polynomial.legendre.leggauss(6)
    energies, weights = 0.5 * (mu_l + mu_r) + 0.5 * bias * x, 0.5 * bias * w
    n = 400
    k = (np.arange(n) + 0.5) * np.pi / n  # k a
    eps = (-2 * t * (np.cos(k)[:, None] + np.cos(k)[None, :])).ravel()
    total = np.zeros(4)
    for e, we in zip(energies, weights):
        b, _ = cs.bond_window(0, np.full(eps.shape, e), eps, [bond])
        total += we * b[:, 0, :].mean(0)
    total *= FLUX / a**2
    current, js_in = total[0], total[1:]
    m = cs.m
    torque = js_in - (js_in @ m) * m  # the longitudinal part flows on through the electrode
    assert current == pytest.approx(r.current_density, rel=2e-6)
    np.testing.assert_allclose(torque, r.torque, rtol=0, atol=5e-5 * np.abs(r.torque).max())


@pytest.mark.parametrize("reference", [0, 1])
def test_reduced_and_nested_windows_agree_for_one_in_plane_hopping(reference):
    """In-plane hoppings all 0.8 eV, the junction's t = 1 eV, interfaces 0.5 and 0.6 eV.

    The reduction (weight ∫ρ₂D over the band of t∥ = 0.8) and the nested ε∥ quadrature
    (band of t = 1 with coefficient 0.8 on every site) agree to 20 rtol at rtol 1e-7
    (measured 2e-10 for the current, 3e-9 for the torque).  Using the junction's t in the
    reduction instead would change the current by 80 % and the torque by 8 times its size.
    """
    j = one_in_plane_hopping()
    js = make_system(j)
    assert j.transverse_separable and j.hopping_of(j.left) != j.hopping
    rtol = 1e-7
    a, b = (bias_point(js, theta=THETA, phi=PHI, bias=0.15, rtol=rtol, method=method,
                       reference=reference) for method in ("reduced", "nested"))
    assert a.converged and b.converged
    assert b.current_density == pytest.approx(a.current_density, rel=20 * rtol)
    np.testing.assert_allclose(b.torque, a.torque, rtol=0,
                               atol=20 * rtol * np.abs(a.torque).max())


def test_auto_picks_the_nested_route_when_in_plane_hoppings_differ():
    js = make_system(fif_hoppings())
    with pytest.raises(ValueError, match=r"method='reduced' needs one in-plane hopping"):
        bias_point(js, theta=THETA, bias=0.1, method="reduced")
    auto, nested = (bias_point(js, theta=THETA, phi=PHI, bias=0.1, rtol=1e-5, method=method)
                    for method in ("auto", "nested"))
    assert auto.current_density == nested.current_density
    np.testing.assert_array_equal(auto.torque, nested.torque)


@pytest.mark.slow
@pytest.mark.parametrize("reference", [0, 1])
def test_reduced_and_nested_windows_agree_at_room_temperature(reference):
    """The same at 300 K, where the window has Fermi tails of 40 kT: agreement to
    20 rtol at rtol 1e-7 (measured 7e-8 current, 4.7e-7 torque; ~6 s each)."""
    js = make_system(one_in_plane_hopping())
    rtol = 1e-7
    a, b = (bias_point(js, theta=THETA, phi=PHI, bias=0.15, rtol=rtol, method=method,
                       reference=reference, temperature=300.0) for method in ("reduced", "nested"))
    assert a.converged and b.converged
    assert b.current_density == pytest.approx(a.current_density, rel=20 * rtol)
    np.testing.assert_allclose(b.torque, a.torque, rtol=0,
                               atol=20 * rtol * np.abs(a.torque).max())
