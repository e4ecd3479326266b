"""The package installed from a wheel (not editable) works outside the repository.

A wheel is built from a copy of the repository (offline: ``--no-build-isolation --no-index``,
so the repository itself gets no ``build/`` or ``*.egg-info``), installed with ``--no-deps``
into a fresh virtual environment, and run from a folder outside the repository: the bundled
junction files (``mtj_kwant/systems/*.toml``) and the studies (``mtj_kwant/studies``) must come
from the installed package (importlib.resources), not from the working tree.

The dependencies (Kwant, NumPy, ...) are made importable in the fresh environment by a ``.pth``
file listing the test interpreter's site-packages.  Python adds a folder named in a ``.pth`` file
to ``sys.path`` without processing the ``.pth`` files inside it, so the editable install's finder
(``__editable__.mtj_kwant-*.pth`` in that folder) never runs there; the test checks this.
About 10-15 s (wheel ~1 s, a one-point sweep, the analytic ``diffusion_profiles`` quick study).
"""

import importlib.util
import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mtj_kwant"
BUNDLED = sorted(p.stem for p in (PACKAGE / "systems").glob("*.toml"))
STUDY_MODULES = sorted(p.name for p in (PACKAGE / "studies").glob("*.py"))
STUDY = "diffusion_profiles"  # the fastest quick study (closed forms only, ~3 s)


def _env(**extra):
    """Environment for the subprocesses: no PYTHONPATH, no user site, no pip configuration
    (this machine's may add indexes, find-links or constraints)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PIP_") and k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env.update(PYTHONNOUSERSITE="1", PIP_CONFIG_FILE=os.devnull, PIP_NO_INPUT="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1", MPLBACKEND="Agg", **extra)
    return env


def _run(cmd, cwd, timeout=300):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited with {proc.returncode}\n"
        f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}")
    return proc


def _site_dirs():
    """The test interpreter's site-packages folders (where the dependencies are)."""
    dirs = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    dirs += site.getsitepackages()
    out = []
    for d in dirs:
        if d not in out and Path(d).is_dir():
            out.append(d)
    return out


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """A wheel built from a copy of pyproject.toml, README.md, the licence files and mtj_kwant/."""
    for module in ("setuptools", "pip"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"cannot build a wheel offline: {module} is not installed in "
                        f"{sys.executable} (needed with --no-build-isolation)")
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for path in ROOT.iterdir():
        if path.is_file() and (path.name in ("pyproject.toml", "README.md")
                               or path.name.upper().startswith(("LICEN", "COPYING", "NOTICE"))):
            shutil.copy2(path, src / path.name)
    shutil.copytree(PACKAGE, src / "mtj_kwant",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
          "-q", "-w", tmp / "dist", src], cwd=tmp)
    wheels = list((tmp / "dist").glob("mtj_kwant-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def fresh(wheel, tmp_path_factory):
    """A fresh virtual environment with the wheel installed (no pip of its own: the test
    interpreter's pip is importable through the .pth file)."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=venv.parent)
    python = venv / "bin" / "python"
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   cwd=venv.parent).stdout.strip()
    (Path(purelib) / "_mtj_kwant_test_deps.pth").write_text("\n".join(_site_dirs()) + "\n")
    # --ignore-installed: pip sees the editable mtj_kwant of the test environment through the
    # .pth file; never try to uninstall it (pip would refuse anyway: outside the environment).
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "-q",
          wheel], cwd=venv.parent)
    return venv


def test_wheel_contains_the_junction_files_and_the_studies(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert sorted(n for n in names if n.startswith("mtj_kwant/systems/")) == \
        [f"mtj_kwant/systems/{b}.toml" for b in BUNDLED]
    assert sorted(n for n in names if n.startswith("mtj_kwant/studies/") and n.endswith(".py")) \
        == [f"mtj_kwant/studies/{m}" for m in STUDY_MODULES]
    assert {"cofeb_mgo_cofeb", "fe_mgo_fe", "fe_mgo_fe_asym", "fifn_2nm", "tb_fif"} <= set(BUNDLED)
    assert STUDY in [Path(m).stem for m in STUDY_MODULES]
    modules = sorted(p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*.py")
                     if "__pycache__" not in p.parts)
    assert sorted(n for n in names if n.endswith(".py")) == modules  # every subpackage
    top = {n.split("/")[0] for n in names}  # no tests/, benchmarks/, docs/ at the top
    assert {t for t in top if not t.endswith(".dist-info")} == {"mtj_kwant"}, top
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "mtj-kwant = mtj_kwant.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_package_runs_outside_the_repository(fresh, tmp_path):
    python, cli = fresh / "bin" / "python", fresh / "bin" / "mtj-kwant"
    work = tmp_path / "work"  # the working directory, outside the repository
    work.mkdir()
    assert not work.resolve().is_relative_to(ROOT)
    out = tmp_path / "out"

    probe = _run([python, "-c", """if 1:
        import json, sys
        import mtj_kwant, mtj_kwant.model, mtj_kwant.study
        print(json.dumps({
            "file": mtj_kwant.__file__,
            "bundled": list(mtj_kwant.bundled_junctions()),
            "bundled_dir": str(mtj_kwant.model.BUNDLED_DIR),
            "studies_dir": str(mtj_kwant.study.STUDIES_DIR),
            "studies": mtj_kwant.study.available_studies(),
            "loaded": mtj_kwant.load_junction("fe_mgo_fe").name,
            "editable": sorted(m for m in sys.modules if "editable" in m),
            "path": sys.path}))
        """], cwd=work)
    info = json.loads(probe.stdout)
    fresh_dir = fresh.resolve()
    for key in ("file", "bundled_dir", "studies_dir"):
        path = Path(info[key]).resolve()
        assert path.is_relative_to(fresh_dir), (key, path)
        assert not path.is_relative_to(ROOT), (key, path)
    assert info["editable"] == [], "the editable finder of the test environment ran"
    assert not any(Path(p).resolve() == ROOT for p in info["path"] if p), info["path"]
    assert [Path(b).stem for b in info["bundled"]] == BUNDLED
    assert STUDY in info["studies"] and "_lattice" not in info["studies"]
    assert info["loaded"]

    sweep = out / "s.json"
    _run([cli, "sweep", "fe_mgo_fe", "--bias", "0.1", "--output", sweep, "--quiet"], cwd=work)
    assert sweep.is_file()
    result = json.loads(sweep.read_text())
    assert result["bias_V"] == [0.1] and all(result["converged"])
    assert result["current_density"][0] > 0

    study_out = out / "study"
    _run([cli, "study", STUDY, "--quick", "--quiet", "--workers", "serial", "--out", study_out],
         cwd=work)
    record = json.loads((study_out / "provenance.json").read_text())
    assert record["study"] == STUDY and record["quick"] is True
    assert record["provenance"]["mtj_kwant"]
    suffixes = {Path(name).suffix for name in record["outputs"]}
    assert {".png", ".csv"} <= suffixes, record["outputs"]
    for name in record["outputs"]:
        assert (study_out / name).is_file() and (study_out / name).stat().st_size > 0, name
    assert not (work / "out").exists()  # nothing written to the default folder
