"""Elastic scattering rates in junction files and their SCBA strengths (DESIGN.md §8)."""

import dataclasses
import math
import re
import textwrap

import numpy as np
import pytest
from scipy.integrate import quad

from mtj_kwant.analytic.relaxation import scba_self_energy_strengths, tight_binding_dos
from mtj_kwant.model import (Electrode, Junction, JunctionError, JunctionWarning, Layer,
                             Scattering, junction_from_dict, junction_to_dict, junction_with,
                             load_junction)
from mtj_kwant.units import HBAR2_2ME

from .conftest import SYSTEMS, fifn

GOOD = textwrap.dedent("""\
    name = "t"
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

    [[layer]]
    kind = "metal"
    thickness = 1.0
    potential = 0.0
    exchange = 2.0
    free = true

    [layer.scattering]
    momentum = 0.05
    spin_flip = 0.01

    [right]
    potential = 0.0
    exchange = 0.0
    """)

SCATTERING = "[layer.scattering]\nmomentum = 0.05\nspin_flip = 0.01\n"


def write(tmp_path, text):
    path = tmp_path / "j.toml"
    path.write_text(text)
    return path


def free_electron_dos(fermi_energy, bottom, exchange, mass):
    """N↑, N↓ = m m_e k_σ/(2π²ħ²) per spin and volume (1/(eV nm³)), ħ²/m_e = 2·HBAR2_2ME."""
    out = []
    for sign in (-1, +1):
        k = math.sqrt(mass * (fermi_energy - bottom - sign * exchange / 2) / HBAR2_2ME)
        out.append(mass * k / (2 * math.pi**2 * 2 * HBAR2_2ME))
    return out


def tb_junction(scattering=None, fermi_energy=-2.5, exchange=1.0, hopping=0.8, onsite=0.2):
    """Tight-binding F/I/F/N with a 5-monolayer free layer (own hopping) and a 2-monolayer cap."""
    return Junction(
        model="tight-binding", fermi_energy=fermi_energy, hopping=1.0, lattice_constant=0.3,
        left=Electrode(potential=0.0, exchange=1.0, magnetization=(0, 0, 1)),
        layers=[Layer(kind="barrier", thickness=4, potential=4.5),
                Layer(kind="metal", thickness=5, potential=onsite, exchange=exchange, free=True,
                      hopping=hopping, scattering=scattering),
                Layer(kind="metal", thickness=2, potential=0.0)],
        right=Electrode(potential=0.0, exchange=0.0))


# ------------------------------------------------------------------------------ parsing
def test_good_file_and_the_bundled_example(tmp_path):
    j = load_junction(write(tmp_path, GOOD))
    assert j.layers[1].scattering == Scattering(momentum=0.05, spin_flip=0.01)
    assert j.layers[0].scattering is None
    assert j.has_scattering
    # the bundled example is fifn_2nm with the table on the free layer, nothing else changed
    dephasing, ballistic = load_junction("fifn_dephasing"), load_junction("fifn_2nm")
    assert dephasing.layers[1].scattering == Scattering(0.05, 0.01) and dephasing.has_scattering
    a, b = junction_to_dict(dephasing), junction_to_dict(ballistic)
    assert a["layer"][1].pop("scattering") == {"momentum": 0.05, "spin_flip": 0.01}
    a.pop("name"), b.pop("name")
    assert a == b


def test_python_route_converts_a_dict_and_validates_like_the_file():
    j = fifn(free_thickness=0.5)
    layer = dataclasses.replace(j.layers[1], scattering={"momentum": 0.02})
    j2 = dataclasses.replace(j, layers=[j.layers[0], layer])
    assert j2.layers[1].scattering == Scattering(momentum=0.02, spin_flip=0.0)
    assert j2.has_scattering
    with pytest.raises(JunctionError, match=r"^layer\[1\]\.scattering\.spin_flip: must be a "
                                            r"finite number, got inf$"):
        dataclasses.replace(j, layers=[j.layers[0], dataclasses.replace(
            layer, scattering={"spin_flip": math.inf})])
    with pytest.raises(JunctionError, match=r"^scattering\.momentum: must be >= 0"):
        Scattering(momentum=-1.0)
    # a table with both rates 0 is kept but is no scattering
    j3 = dataclasses.replace(j, layers=[j.layers[0], dataclasses.replace(
        layer, scattering=Scattering())])
    assert j3.layers[1].scattering == Scattering() and not j3.has_scattering


BAD = [
    ("momentum = 0.05", "momentum = -0.05",
     r"layer\[1\]\.scattering\.momentum: must be >= 0, got -0\.05"),
    ("momentum = 0.05", "momentum = nan",
     r"layer\[1\]\.scattering\.momentum: must be a finite number, got nan"),
    ("spin_flip = 0.01", "spin_flip = inf",
     r"layer\[1\]\.scattering\.spin_flip: must be a finite number, got inf"),
    ("momentum = 0.05", 'momentum = "0.05"',
     r"layer\[1\]\.scattering\.momentum: expected a number, got str '0\.05'"),
    ("momentum = 0.05", "momentom = 0.05",
     r"layer\[1\]\.scattering\.momentom: unknown key; did you mean 'momentum'\? "
     r"allowed: momentum, spin_flip"),
    ("spin_flip = 0.01", "spin_relaxation_length = 10",
     r"layer\[1\]\.scattering\.spin_relaxation_length: unknown key; .*allowed: momentum, "
     r"spin_flip"),
    # on a barrier
    ("potential = 4.0\n", "potential = 4.0\n" + SCATTERING,
     r"layer\[0\]\.scattering: scattering is supported in metal layers only"),
    # with a potential profile
    ("potential = 0.0\nexchange = 2.0\nfree", "potential = [0.0, 0.1]\nexchange = 2.0\nfree",
     r"layer\[1\]\.scattering: a layer with scattering needs a constant potential"),
    # on an electrode
    ("potential = 0.0\nexchange = 0.0\n", "potential = 0.0\nexchange = 0.0\nscattering = "
     "{momentum = 0.05}\n", r"right\.scattering: scattering is supported in metal layers only"),
    # not a table
    (SCATTERING, "scattering = 0.05\n",
     r"layer\[1\]\.scattering: expected a table \[layer\.scattering\]"),
]


@pytest.mark.parametrize("old, new, message", BAD)
def test_bad_scattering_input_gives_one_line_naming_the_key(tmp_path, old, new, message):
    assert GOOD.count(old) == 1
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(JunctionError) as err:
        load_junction(path)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith(f"{path}: ")
    assert re.search(message, text), text


# ------------------------------------------------------------------------------ chain
def test_chain_rates_on_the_scattering_layer_only(tmp_path):
    j = load_junction(write(tmp_path, GOOD))
    for pad in (2, (3, 1)):
        c = j.chain(pad=pad)
        left, right = (pad, pad) if np.ndim(pad) == 0 else pad
        assert c.momentum_rate.shape == c.spin_flip_rate.shape == (c.n_sites,)
        in_layer = c.layer_index == 1
        assert in_layer.sum() == 40  # 1.0 nm / 0.025 nm
        assert np.all(c.momentum_rate[in_layer] == 0.05)
        assert np.all(c.spin_flip_rate[in_layer] == 0.01)
        assert np.all(c.momentum_rate[~in_layer] == 0) and np.all(c.spin_flip_rate[~in_layer] == 0)
        assert np.all(c.momentum_rate[:left] == 0) and np.all(c.momentum_rate[-right:] == 0)
        assert c.has_scattering


def test_junction_without_scattering_is_unchanged():
    j = fifn()
    assert not j.has_scattering
    assert all(lay.scattering is None for lay in j.layers)
    c = j.chain()
    assert np.all(c.momentum_rate == 0) and np.all(c.spin_flip_rate == 0) and not c.has_scattering
    d_m, d_s = scba_self_energy_strengths(j)
    assert d_m.shape == d_s.shape == (c.n_sites,) and not d_m.any() and not d_s.any()
    assert all("scattering" not in table for table in junction_to_dict(j)["layer"])
    # a Chain built without the rates (as before) gets zeros; a wrong shape is refused
    bare = dataclasses.replace(c, momentum_rate=None, spin_flip_rate=None)
    assert np.array_equal(bare.momentum_rate, np.zeros(c.n_sites))
    with pytest.raises(ValueError, match=r"momentum_rate must have shape"):
        dataclasses.replace(c, momentum_rate=np.zeros(3))


# ------------------------------------------------------------------------------ strengths
def test_free_electron_strengths_reproduce_the_rates():
    """2π D_m a N̄ = ħ/τ_m and 8π D_s a N̄ = ħ/τ_sf, N̄ from m k/(2π²ħ²) (per-layer mass)."""
    j = fifn(free_thickness=0.5, spacing=0.025)
    free = dataclasses.replace(j.layers[1], potential=0.3, effective_mass=0.8,
                               scattering=Scattering(momentum=0.05, spin_flip=0.01))
    j = dataclasses.replace(j, layers=[j.layers[0], free])
    n_bar = 0.5 * sum(free_electron_dos(j.fermi_energy, 0.3, 2.0, 0.8))
    for spacing in (0.025, 0.0125):  # D = γ/a depends on the chain's step
        c = j.at_spacing(spacing).chain()
        d_m, d_s = scba_self_energy_strengths(j, c)
        sites = c.layer_index == 1
        assert np.allclose(2 * np.pi * d_m[sites] * spacing * n_bar, 0.05, rtol=1e-12, atol=0)
        assert np.allclose(8 * np.pi * d_s[sites] * spacing * n_bar, 0.01, rtol=1e-12, atol=0)
        assert not d_m[~sites].any() and not d_s[~sites].any()
    # the default chain is junction.chain()
    assert np.array_equal(scba_self_energy_strengths(j)[0], scba_self_energy_strengths(
        j, j.chain())[0])


def test_tight_binding_strengths_use_the_layer_band():
    sc = Scattering(momentum=0.04, spin_flip=0.02)
    j = tb_junction(scattering=sc)
    c = j.chain()
    d_m, d_s = scba_self_energy_strengths(j, c)
    a = j.lattice_constant
    # majority band centred at ε − Δ/2, minority at ε + Δ/2, with the layer's hopping 0.8 eV
    n_up = tight_binding_dos(-2.5, 0.2 - 0.5, 0.8, a)
    n_dn = tight_binding_dos(-2.5, 0.2 + 0.5, 0.8, a)
    assert n_up > n_dn > 0  # E_F in the lower part of both bands
    sites = c.layer_index == 1
    assert sites.sum() == 5
    n_bar = 0.5 * (n_up + n_dn)
    assert np.allclose(2 * np.pi * d_m[sites] * a * n_bar, 0.04, rtol=1e-12, atol=0)
    assert np.allclose(8 * np.pi * d_s[sites] * a * n_bar, 0.02, rtol=1e-12, atol=0)
    assert not d_m[~sites].any() and not d_s[~sites].any()


def test_tight_binding_dos_against_a_k_grid():
    """Gaussian-broadened sum over a 96³ k-grid vs the quadrature DOS convolved with the same
    Gaussian (σ = 0.1 t): like with like, so only the k-grid error remains, which is
    exponentially small once σ/(v Δk) ≳ 1 (measured ~1e-15).  Tolerance 1e-10 relative, the
    quadrature's own accuracy.  Energies: near a band edge, between the van Hove points (±2t)
    and just above one."""
    t, a, sigma = 0.8, 0.3, 0.08
    n = 96
    k = (np.arange(n) + 0.5) * np.pi / n  # cos is even: [0, π) samples the zone
    c = -2 * t * np.cos(k)
    eps = (c[:, None, None] + c[None, :, None] + c[None, None, :]).ravel()

    def gauss(x):
        return np.exp(-0.5 * (x / sigma) ** 2) / (math.sqrt(2 * math.pi) * sigma)

    for energy in (-4.3, 0.37, 1.9):
        grid = gauss(energy - eps).mean() / a**3
        conv = quad(lambda e: tight_binding_dos(e, 0.0, t, a) * gauss(energy - e),
                    max(-6 * t, energy - 10 * sigma), min(6 * t, energy + 10 * sigma),
                    points=[p for p in (-2 * t, 2 * t) if abs(p - energy) < 10 * sigma],
                    limit=200, epsabs=0, epsrel=1e-11)[0]
        assert grid == pytest.approx(conv, rel=1e-10, abs=0), energy


def test_tight_binding_dos_moments_and_range():
    """∫N = 1/a³, ∫(E−ε)N = 0, ∫(E−ε)²N = 6t²/a³ (exact for the simple cubic band); 0 outside.

    N has square-root points at the band edges ±6t and the van Hove energies ±2t; on each
    segment between them E = E_a + (E_b − E_a)(1 − cos πs)/2 makes the integrand analytic in s,
    so 40-point Gauss–Legendre per segment is exact to ~1e-12.  Tolerance 1e-9.
    """
    t, a, eps0 = 1.3, 0.25, -0.4
    s, w = np.polynomial.legendre.leggauss(40)
    s, w = 0.5 * (s + 1), 0.5 * w
    moments = np.zeros(3)
    for lo, hi in ((-6, -2), (-2, 2), (2, 6)):
        x = lo * t + (hi - lo) * t * 0.5 * (1 - np.cos(np.pi * s))
        jac = (hi - lo) * t * 0.5 * np.pi * np.sin(np.pi * s)
        dos = np.array([tight_binding_dos(eps0 + v, eps0, t, a) for v in x])
        moments += [np.sum(w * jac * dos * x**p) for p in range(3)]
    moments *= a**3
    assert moments[0] == pytest.approx(1.0, abs=1e-9)
    assert moments[1] == pytest.approx(0.0, abs=1e-9)
    assert moments[2] == pytest.approx(6 * t**2, rel=1e-9)
    assert tight_binding_dos(eps0 + 6 * t + 1e-9, eps0, t, a) == 0.0
    assert tight_binding_dos(eps0 - 7 * t, eps0, t, a) == 0.0
    with pytest.raises(ValueError, match="hopping"):
        tight_binding_dos(0.0, 0.0, -1.0, a)


def test_a_band_without_fermi_surface_is_refused():
    j = fifn(free_thickness=0.5)
    half = dataclasses.replace(j.layers[1], exchange=7.0, scattering=Scattering(0.05, 0.0))
    half_metal = dataclasses.replace(j, layers=[j.layers[0], half])  # minority bottom 3.5 > E_F
    with pytest.raises(JunctionError) as err:
        scba_self_energy_strengths(half_metal)
    text = str(err.value)
    assert "\n" not in text
    assert re.match(r"layer\[1\]\.scattering: the minority \(down\) band .* has no Fermi "
                    r"surface at E_F = 3 eV", text), text
    # tight binding: E_F above the top of both bands
    with pytest.raises(JunctionError, match=r"layer\[1\]\.scattering: the majority \(up\) band "
                                            r"\(from -5\.1 eV to 4\.5 eV\) has no Fermi surface"):
        with pytest.warns(JunctionWarning, match="not a tunnel barrier"):
            above = tb_junction(Scattering(0.05, 0.0), fermi_energy=5.0)
        scba_self_energy_strengths(above)
    # zero rates: no scattering, nothing to check
    zero = dataclasses.replace(half_metal, layers=[j.layers[0], dataclasses.replace(
        half, scattering=Scattering())])
    assert not scba_self_energy_strengths(zero)[0].any()


def test_a_chain_of_another_junction_is_refused():
    j = tb_junction(Scattering(0.05, 0.01))
    other = tb_junction(Scattering(0.02, 0.01))
    with pytest.raises(JunctionError, match=r"^chain: its rates on layer\[1\] differ"):
        scba_self_energy_strengths(j, other.chain())
    with pytest.raises(JunctionError, match=r"^chain: it does not belong"):
        scba_self_energy_strengths(j, fifn().chain())


# ------------------------------------------------------------------------------ round trip
def test_round_trip_carries_the_table(tmp_path):
    j = load_junction(write(tmp_path, GOOD))
    tables = junction_to_dict(j)
    assert tables["layer"][1]["scattering"] == {"momentum": 0.05, "spin_flip": 0.01}
    assert "scattering" not in tables["layer"][0]
    back = junction_from_dict(tables)
    assert back == j and back.layers[1].scattering == j.layers[1].scattering
    # parameter paths reach into the table (and create it)
    j2 = junction_with(j, {"layer[1].scattering.momentum": 0.1})
    assert j2.layers[1].scattering == Scattering(0.1, 0.01)
    j3 = junction_with(fifn(), {"layer[1].scattering.spin_flip": 0.02})
    assert j3.layers[1].scattering == Scattering(0.0, 0.02) and j3.has_scattering
    with pytest.raises(JunctionError, match=r"^layer\[1\]\.scattering\.momentum: must be >= 0"):
        junction_with(j, {"layer[1].scattering.momentum": -1})
    with pytest.raises(JunctionError, match=r"only layer\[i\]\.scattering and "
                                            r"layer\[i\]\.disorder have sub-keys"):
        junction_with(j, {"layer[1].exchange.momentum": 1})
    # the bundled example survives the same round trip
    d = load_junction(SYSTEMS / "fifn_dephasing.toml")
    assert junction_from_dict(junction_to_dict(d)) == d
