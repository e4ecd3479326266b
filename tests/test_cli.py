"""Command line: outputs of DESIGN.md §4 and one readable line per user mistake."""

import json
from pathlib import Path
import re
import subprocess
import sys

import pytest

from mtj_kwant.cli import main
from mtj_kwant.model import JunctionError, load_junction
from mtj_kwant.sweep import SweepResult, load_result, profile

from .conftest import SYSTEMS

FIF = str(SYSTEMS / "fe_mgo_fe.toml")


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_sweep_writes_design_keys_and_plot(tmp_path, capsys):
    out = tmp_path / "s.json"
    png = tmp_path / "s.png"
    code, stdout, _ = run(capsys, "sweep", FIF, "--bias", "-0.1", "0.1", "--theta", "60",
                          "--output", str(out), "--plot", str(png), "--quiet")
    assert code == 0 and str(out) in stdout and str(png) in stdout
    data = json.loads(out.read_text())
    for key in ("bias_V", "theta_deg", "phi_deg", "temperature_K", "current_density",
                "torque_inplane_window", "torque_outofplane_window", "units",
                "current_density_error", "torque_inplane_window_error",
                "torque_outofplane_window_error"):
        assert key in data, key
    assert data["bias_V"] == [-0.1, 0.1] and data["theta_deg"] == 60
    assert data["current_density"][1] > 0 > data["current_density"][0]
    assert png.stat().st_size > 10_000
    again = load_result(out)
    assert isinstance(again, SweepResult) and again.current_density == data["current_density"]


def test_profile_writes_design_keys(tmp_path, capsys):
    out = tmp_path / "p.json"
    code, _, _ = run(capsys, "profile", FIF, "--bias", "0.1", "--depth", "1", "--output", str(out),
                       "--quiet")
    assert code == 0
    data = json.loads(out.read_text())
    for key in ("x_nm", "spin_density", "bond_x_nm", "spin_current", "torque_density", "units"):
        assert key in data
    assert len(data["spin_density"]) == len(data["x_nm"])
    assert len(data["spin_current"]) == len(data["bond_x_nm"]) == len(data["x_nm"]) - 1


#: One line per solver run of a profile: what it computed and how many evaluations it took.
RUN_LINE = re.compile(r"profile: (.+): (\d+) evaluations in \d+\.\d s")


def test_profile_says_what_it_computes_unless_quiet(tmp_path, capsys):
    """A profile of a continuum F/I/F junction takes several solver runs (the lattice
    refinement, torque only, then the site-resolved run): without --quiet each ends with a
    line on stderr naming its lattice or depth and its evaluations; with --quiet stderr stays
    empty."""
    out = tmp_path / "p.json"
    code, _, err = run(capsys, "profile", FIF, "--bias", "0.1", "--depth", "1", "--output",
                       str(out))
    assert code == 0
    runs = [RUN_LINE.fullmatch(line) for line in err.splitlines() if line.startswith("profile:")]
    assert len(runs) >= 3 and all(runs), err
    whats = [m.group(1) for m in runs]
    steps = [float(re.fullmatch(r"lattice a = (\S+) nm, torque only \(choosing the lattice\)",
                                what).group(1)) for what in whats[:-1]]
    assert all(b == a / 2 for a, b in zip(steps, steps[1:]))  # the refinement halves a
    result = load_result(out)
    assert result.lattice_spacing_nm == steps[-1]  # the profile is on the last step tried
    assert re.fullmatch(r"site-resolved run, free electrode to 1 nm \(\d+ sites\)", whats[-1])
    assert all(int(m.group(2)) > 0 for m in runs)
    code, _, err = run(capsys, "profile", FIF, "--bias", "0.1", "--depth", "1", "--output",
                       str(out), "--quiet")
    assert code == 0 and err == ""


def test_profile_progress_bar_on_a_terminal_only(capsys, monkeypatch):
    """mk.profile(progress=True) adds a tqdm bar counting evaluations when stderr is a terminal
    (as sweep's bar), and only the run lines otherwise; progress=False writes nothing."""
    junction = load_junction(FIF)
    profile(junction, 0.1, depth=1.0)
    err = capsys.readouterr().err
    assert "eval [" not in err and RUN_LINE.search(err)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    profile(junction, 0.1, depth=1.0)
    err = capsys.readouterr().err
    assert re.search(r"profile: lattice a = [^:]+: \d+ eval \[", err) and RUN_LINE.search(err)
    profile(junction, 0.1, depth=1.0, progress=False)
    assert capsys.readouterr().err == ""


ERRORS = [
    (["sweep", "missing.toml", "--bias", "0.1"], r"missing\.toml: no such junction file"),
    (["sweep", FIF], r"the following arguments are required: --bias"),
    (["sweep", FIF, "--bias", "abc"], r"--bias: 'abc' is not a number in volts"),
    (["sweep", FIF, "--bias", "0:1"], r"--bias: '0:1' is not START:STOP:N"),
    (["sweep", FIF, "--bias", "0.1", "--theta", "x"], r"argument --theta: invalid float value: 'x'"),
    (["sweep", FIF, "--bias", "0.1", "--theta", "nan"], r"--theta: must be a finite angle in degrees"),
    (["sweep", FIF, "--bias", "0.1", "--temperature", "-3"], r"--temperature: must be a finite number of kelvin >= 0"),
    (["sweep", FIF, "--bias", "0.1", "--rtol", "0"], r"--rtol: must be a number between 1e-12 .* and 1, e\.g\. 1e-3; got 0"),
    (["sweep", FIF, "--bias", "0.1", "--rtol", "1e-13"], r"--rtol: must be a number between 1e-12"),
    (["sweep", FIF, "--bias", "0.1", "--parts", "all"], r"argument --parts: invalid choice: 'all'"),
    (["sweep", FIF, "--bias", "0.1", "--workers", "0"], r"--workers: give a number of processes >= 1"),
    (["scan", FIF, "--vary", "thickness"], r"--vary: 'thickness' is not PATH=VALUES"),
    (["scan", FIF, "--vary", "layer[7].thickness=1"], r"layer\[7\]\.thickness: the junction has 1 layers"),
    (["scan", FIF, "--vary", "layer[0].thicknes=1"], r"layer\[0\]\.thicknes: unknown key; did you mean 'thickness'"),
    (["scan", FIF, "--theta", "0:90"], r"--theta: '0:90' is not START:STOP:N"),
    (["sweep", FIF, "--bias", "0.1", "--solver", "magic"], r"argument --solver: invalid choice: 'magic'"),
    (["profile", FIF, "--bias", "0.1"], r"the following arguments are required: --output"),
    (["frobnicate"], r"argument command: invalid choice: 'frobnicate'"),
]


@pytest.mark.parametrize("args, match", ERRORS, ids=[" ".join(a[:1] + a[2:])[:40] for a, _ in ERRORS])
def test_user_errors_give_one_line_and_nonzero_status(capsys, args, match):
    import re

    code, out, err = run(capsys, *args)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("mtj-kwant: error: ")
    assert re.search(match, lines[0]), lines[0]
    assert "Traceback" not in err


def test_bad_file_from_a_subprocess_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text((SYSTEMS / "fe_mgo_fe.toml").read_text().replace("thickness = 1.0", "thickness = 0"))
    proc = subprocess.run([sys.executable, "-m", "mtj_kwant.cli", "sweep", str(bad), "--bias", "0.1"],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (f"mtj-kwant: error: {bad}: layer[0].thickness: must be positive, got 0.0")


def test_debug_shows_the_traceback(capsys):
    """With --debug the error propagates (Python prints the traceback) instead of the
    one-line message and exit status 1."""
    with pytest.raises(JunctionError, match=r"^missing\.toml: no such junction file or bundled"):
        main(["sweep", "missing.toml", "--bias", "0.1", "--debug"])
    assert main(["sweep", "missing.toml", "--bias", "0.1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mtj-kwant: error: missing.toml: no such junction file or bundled "
                          "junction; bundled: cofeb_mgo_cofeb, fe_mgo_fe") and err.count("\n") == 1


def test_store_never_overwrites_a_file_that_is_not_a_store(tmp_path, capsys):
    """--store naming an existing file without the store's sidecar (a junction file, notes):
    one line, usage exit status, the file untouched (it used to be replaced with a warning).
    A store of another run (sidecar present) is still replaced with a warning."""
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    code, _, err = run(capsys, "sweep", FIF, "--bias", "0.1", "--store", str(notes),
                       "--output", str(tmp_path / "s.json"), "--quiet")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"mtj-kwant: error: --store: {notes} exists and is not a store")
    assert notes.read_text() == "my notes\n"
    code, _, err = run(capsys, "sweep", FIF, "--bias", "0.1", "--store", str(notes), "--fresh",
                       "--output", str(tmp_path / "s.json"), "--quiet")
    assert code == 2 and "is not a store" in err and notes.read_text() == "my notes\n"
    store = tmp_path / "run.csv"
    code, _, _ = run(capsys, "sweep", FIF, "--bias", "0.1", "--store", str(store),
                     "--output", str(tmp_path / "a.json"), "--quiet")
    assert code == 0
    code, _, err = run(capsys, "sweep", FIF, "--bias", "0.1", "--rtol", "1e-2", "--store",
                       str(store), "--output", str(tmp_path / "b.json"), "--quiet")
    assert code == 0 and "starting afresh" in err


@pytest.mark.slow  # ~40 s; the resume itself: test_runner.py::test_sigkill_then_resume (~5 s)
def test_sweep_killed_with_sigkill_resumes_from_its_store(tmp_path):
    """A real SIGKILL in the middle of `mtj-kwant sweep`, then the same command again.

    The store keeps every point finished before the kill (its rows are the
    first rows of the final store, byte for byte: nothing finished is
    recomputed), every bias appears once at the end, and the result equals an
    uninterrupted run exactly (the serial computation is deterministic).
    """
    import os
    import signal
    import time

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root))
    system = str(SYSTEMS / "fifn_2nm.toml")

    def command(out):
        return [sys.executable, "-m", "mtj_kwant.cli", "sweep", system, "--bias=-0.5:0.5:25",
                "--parts", "both", "--rtol", "1e-4", "--workers", "serial", "--quiet",
                "--output", str(out)]

    out = tmp_path / "killed" / "s.json"
    store = out.with_name("s.points.csv")
    proc = subprocess.Popen(command(out), env=env, cwd=root, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if store.exists() and store.read_text().count("\n") >= 6:  # header + 5 points
            break
        if proc.poll() is not None:
            pytest.fail("the sweep finished before it could be killed")
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = store.read_text()
    before = before[:before.rfind("\n") + 1]  # a row cut by the kill is dropped on resume
    assert not out.exists() and before.count("\n") >= 6
    subprocess.run(command(out), env=env, cwd=root, check=True, capture_output=True)
    after = store.read_text()
    assert after.startswith(before)
    rows = after.strip().split("\n")[1:]
    assert len(rows) == 25 and len({r.split(",")[3] for r in rows}) == 25  # bias_V column
    clean = tmp_path / "clean" / "s.json"
    subprocess.run(command(clean), env=env, cwd=root, check=True, capture_output=True)
    a, b = json.loads(out.read_text()), json.loads(clean.read_text())
    for key in ("bias_V", "current_density", "torque_inplane_window", "torque_outofplane_total",
                "torque_inplane_total", "torque_outofplane_total_error"):
        assert a[key] == b[key], key


def test_same_output_with_other_settings_starts_afresh(tmp_path, capsys):
    """The store resumes only the same computation; other settings replace it, with a warning."""
    out = tmp_path / "s.json"
    code, _, _ = run(capsys, "sweep", FIF, "--bias", "0.1", "--output", str(out), "--quiet")
    first = json.loads(out.read_text())
    code, _, err = run(capsys, "sweep", FIF, "--bias", "0.1", "--theta", "45", "--output",
                       str(out), "--quiet")  # other points, same settings: the store grows
    assert code == 0 and "afresh" not in err
    assert len((tmp_path / "s.points.csv").read_text().strip().split("\n")) == 3
    code, _, err = run(capsys, "sweep", FIF, "--bias", "0.1", "--rtol", "1e-5", "--output",
                       str(out), "--quiet")
    assert code == 0 and "starting afresh" in err
    second = json.loads(out.read_text())
    assert second["rtol"] == 1e-5
    assert second["current_density"] != first["current_density"]  # recomputed, tighter
    store = (tmp_path / "s.points.csv").read_text().strip().split("\n")
    assert len(store) == 2  # header + the new point only


# -- issue 11: tables, negative values, help, pipes, Kwant notes and errors ---------------------

EDGE = """\
name = "minority band bottom on E_F"
model = "free-electron"
fermi_energy = 0.1
lattice_spacing = 0.05
[left]
potential = 0.0
exchange = 0.2
magnetization = [0, 0, 1]
[[layer]]
kind = "barrier"
thickness = 0.5
potential = 1.1
[right]
potential = 0.0
exchange = 0.2
free = true
"""


def test_sweep_prints_a_table_unless_quiet(tmp_path, capsys):
    out = tmp_path / "s.json"
    code, stdout, _ = run(capsys, "sweep", FIF, "--bias", "-0.1", "0.1", "--parts", "both",
                          "--workers", "serial", "--output", str(out))
    assert code == 0
    data = json.loads(out.read_text())
    lines = stdout.strip().splitlines()
    assert lines[0].split() == ["bias", "(V)", "J", "(A/m^2)", "T_par", "window", "T_perp",
                                "window", "T_par", "total", "T_perp", "total"]
    keys = ("current_density", "torque_inplane_window", "torque_outofplane_window",
            "torque_inplane_total", "torque_outofplane_total")
    for i, line in enumerate(lines[1:3]):
        fields = line.split()
        assert float(fields[0]) == data["bias_V"][i]
        for k, key in enumerate(keys):
            value, error = float(fields[1 + 2 * k]), float(fields[2 + 2 * k].lstrip("+-"))
            assert value == pytest.approx(data[key][i], rel=1e-4)
            assert error == pytest.approx(data[f"{key}_error"][i], rel=0.5)
    assert "(hbar/2e) A/m^2" in lines[3] and lines[4].startswith(f"wrote {out}")
    code, stdout, _ = run(capsys, "sweep", FIF, "--bias", "0.1", "--quiet", "--output", str(out))
    assert stdout.strip().splitlines() == [f"wrote {out} (finished points in "
                                           f"{tmp_path / 's.points.csv'})"]


@pytest.mark.parametrize("args, biases", [
    (["--bias", "-0.5:0.5:3"], [-0.5, 0.0, 0.5]),
    (["--bias=-0.02", "0", "0.02"], [-0.02, 0.0, 0.02]),  # the README's old advice, for a list
    (["--bias", "-0.02", "0", "0.02"], [-0.02, 0.0, 0.02]),
    (["--bias", "-1e-3", "-2E-3", "+3e-3"], [-1e-3, -2e-3, 3e-3]),
    (["--bias", "-0.02,0.02", "-.01"], [-0.02, 0.02, -0.01]),
    (["--bias=-0.2:0:2", "-0.3:-0.4:2"], [-0.2, 0.0, -0.3, -0.4]),
], ids=["range", "equals list", "list", "exponents", "commas", "ranges"])
def test_negative_biases_work_in_every_form(args, biases):
    from mtj_kwant.cli import _biases, _negative_values, build_parser

    parsed = build_parser().parse_args(_negative_values(["sweep", FIF, *args, "--theta", "-30"]))
    assert _biases(parsed.bias) == pytest.approx(biases, abs=1e-15) and parsed.theta == -30
    scan = build_parser().parse_args(_negative_values(["scan", FIF, *args, "--theta", "-90:90:3",
                                                      "--phi", "-45", "10"]))
    assert _biases(scan.bias) == pytest.approx(biases, abs=1e-15)
    assert scan.theta == ["-90:90:3"] and scan.phi == ["-45,10"]
    profile = build_parser().parse_args(_negative_values(["profile", FIF, "--bias", "-1e-2",
                                                         "--output", "p.json"]))
    assert profile.bias == -0.01


def test_negative_bias_list_end_to_end(tmp_path, capsys):
    out = tmp_path / "s.json"
    code, _, err = run(capsys, "sweep", FIF, "--bias=-0.02", "0", "0.02", "--quiet",
                       "--workers", "serial", "--output", str(out))
    assert code == 0, err
    data = json.loads(out.read_text())
    assert data["bias_V"] == [-0.02, 0.0, 0.02]
    assert data["current_density"][0] == pytest.approx(-data["current_density"][2], rel=1e-3)


def test_study_help_lists_the_studies(capsys):
    from mtj_kwant.study import available_studies, study_titles

    code, stdout, _ = run(capsys, "study", "--help")
    assert code == 0
    names = available_studies()
    assert "bias_dependence" in names and len(names) >= 6
    titles = study_titles()
    for name in names:
        assert titles[name], name  # every study states its question
        assert any(line.split() == [name, *titles[name].split()]
                   for line in stdout.splitlines()), name


def test_output_into_a_closed_pipe_ends_quietly(tmp_path):
    """`mtj-kwant ... | head` used to end with a Broken-pipe message on stderr."""
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-m", "mtj_kwant.cli", "sweep", FIF, "--bias", "0.1",
                             "--workers", "serial", "--output", str(tmp_path / "s.json")],
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before anything is printed
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141 and err == ""
    assert json.loads((tmp_path / "s.json").read_text())["bias_V"] == [0.1]  # the result is kept


def test_kwant_solver_says_that_the_sea_is_batched(tmp_path, capsys):
    from mtj_kwant.cli import KWANT_SEA_NOTE

    system = tmp_path / "edge.toml"
    system.write_text(EDGE)
    out = tmp_path / "k.json"
    code, stdout, err = run(capsys, "sweep", str(system), "--bias", "0.02", "--parts", "both",
                            "--solver", "kwant", "--workers", "serial", "--quiet",
                            "--output", str(out))
    assert code == 0
    assert err.strip().splitlines().count(f"mtj-kwant: note: {KWANT_SEA_NOTE}") == 1
    data = json.loads(out.read_text())
    assert data["solver"] == "kwant" and data["provenance"]["notes"] == [KWANT_SEA_NOTE]
    code, _, err = run(capsys, "sweep", str(system), "--bias", "0.02", "--solver", "kwant",
                       "--workers", "serial", "--quiet", "--output", str(out))
    assert code == 0 and "note:" not in err  # window only: Kwant did everything
    assert "notes" not in json.loads(out.read_text())["provenance"]


def test_kwant_point_that_fails_is_one_line_naming_bias_energy_and_edge(tmp_path, capsys,
                                                                         monkeypatch):
    import kwant
    import numpy as np

    def singular(*args, **kwargs):
        raise np.linalg.LinAlgError("A singular matrix detected: slice(s) [0] are singular.")

    monkeypatch.setattr(kwant, "wave_function", singular)
    system = tmp_path / "edge.toml"
    system.write_text(EDGE)
    code, _, err = run(capsys, "sweep", str(system), "--bias=-0.02", "--solver", "kwant",
                       "--workers", "serial", "--quiet", "--output", str(tmp_path / "k.json"))
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    import re

    assert re.fullmatch(r"mtj-kwant: error: Kwant scattering states failed at bias -0\.02 V, "
                        r"energy \S+ eV, transverse energy 0 eV; the nearest lead band edge is "
                        r"the (left|right) electrode's at \S+ eV \(\S+ eV away\): A singular "
                        r"matrix detected: slice\(s\) \[0\] are singular\. \(use --solver "
                        r"batched, which copes with band edges\)", lines[0]), lines[0]


def test_unwritable_outputs_are_refused_before_computing(tmp_path, capsys, monkeypatch):
    """An output below a file, a folder given as a file, a file given as a folder: one line
    naming the option, exit 2, before any point is computed (was a raw [Errno 17/20] after
    the run)."""
    monkeypatch.chdir(tmp_path)
    Path("afile").write_text("")
    cases = [(["sweep", FIF, "--bias", "0.1", "--output", "afile/s.json"],
              "--output afile/s.json: afile is a file, not a folder"),
             (["sweep", FIF, "--bias", "0.1", "--output", "."], "--output .: is a folder"),
             (["sweep", FIF, "--bias", "0.1", "--plot", "afile/p.png"], "--plot afile/p.png"),
             (["study", "diffusion_profiles", "--quick", "--out", "afile"],
              "--out afile: is a file; give a folder")]
    for args, message in cases:
        code, out, err = run(capsys, *args)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, (args, err)
        assert not Path("out").exists()  # nothing computed or written


def test_absurd_bias_is_refused_in_one_line(tmp_path, capsys):
    """|V| > 10 V: refused (a sweep at 1e6 V returned J = 0 ± 1e-291 'converged')."""
    code, _, err = run(capsys, "sweep", FIF, "--bias", "1e6", "--output",
                       str(tmp_path / "s.json"))
    assert code == 2 and err.count("\n") == 1 and "--bias: |V| must be at most 10 V" in err
    code, _, err = run(capsys, "scan", FIF, "--bias", "-11:0:3", "--output",
                       str(tmp_path / "s.csv"))
    assert code == 2 and err.count("\n") == 1 and "got -11 V" in err
    code, _, err = run(capsys, "profile", FIF, "--bias", "-50", "--output",
                       str(tmp_path / "p.json"))
    assert code == 2 and err.count("\n") == 1 and "--bias: |V| must be at most 10 V" in err


def test_a_parameter_scan_warns_once_per_distinct_junction(tmp_path, capsys, monkeypatch):
    """--vary builds each distinct junction once per process: its validation warning (a
    coarse lattice's band deviation) is issued once, not once per point (11 times before).
    Counted as issued (every issuance recorded), with the per-process cache emptied first,
    for 5 and 10 points."""
    import importlib
    import warnings

    scan_module = importlib.import_module("mtj_kwant.scan")  # the package's scan is a function
    counts = []
    for thetas in ("0:180:5", "0:180:10"):
        monkeypatch.setattr(scan_module, "_VARIED", {})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code, _, _ = run(capsys, "scan", FIF, "--bias", "0.1", "--theta", thetas, "--vary",
                             "lattice_spacing=0.05", "--workers", "serial", "--output",
                             str(tmp_path / "s.csv"), "--quiet", "--fresh")
        assert code == 0
        counts.append(sum("deviates from the parabola" in str(w.message) for w in caught))
    # issued where the scan checks its --vary values and once for the points, whatever their
    # number
    assert counts[0] == counts[1] <= 2, counts
