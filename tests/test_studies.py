"""Smoke test: every study runs with --quick and writes figures, data and provenance."""

import json
import re

import pytest

from mtj_kwant.cli import main
from mtj_kwant.study import available_studies, layout_defects, run_study

REQUIRED = ["bias_dependence", "thickness_interference", "spin_profiles", "diffusion_profiles",
            "validation", "angular"]


def test_the_six_studies_exist():
    assert set(REQUIRED) <= set(available_studies())


@pytest.mark.parametrize("name", available_studies())
def test_quick_study_writes_figures_data_and_provenance(tmp_path, name):
    paths = run_study(name, tmp_path / name, quick=True, progress=False, executor="serial")
    suffixes = [p.suffix for p in paths]
    assert ".png" in suffixes and ".csv" in suffixes
    for path in paths:
        assert path.exists() and path.stat().st_size > 0, path
    record = json.loads((tmp_path / name / "provenance.json").read_text())
    assert record["study"] == name and record["quick"] is True
    assert record["provenance"]["mtj_kwant"] and record["outputs"]
    # the lattice (continuum limit, its error estimates, or why there is none) is recorded
    assert record["settings"].get("lattice")
    for png in (p for p in paths if p.suffix == ".png"):
        assert png.stat().st_size > 20_000  # a real figure, not an empty canvas
    check_figure_labels(name, record["figures"])
    for label, fig in record["figures"].items():  # no legend or label over data or text
        assert fig["layout_defects"] == [], f"{name}/{label}: {fig['layout_defects']}"
    # a fit that means nothing is flagged, never printed as numbers (NaN uncertainties)
    for note in record["notes"]:
        assert "+- nan" not in note and "± nan" not in note, note


#: A unit in parentheses at the end of an axis label: "bias V (V)", "T∥ ((ħ/2e) A/m²)".
UNIT = re.compile(r"\(.*\)\s*$")


def check_figure_labels(name, figures):
    """Every axis label ends with its unit in parentheses, ħ/2e in parentheses too, and every
    panel of the bias_dependence figure has a legend (issue 11, item 8)."""
    assert figures, f"{name}: no figure recorded"
    for label, fig in figures.items():
        for i, ax in enumerate(fig["axes"]):
            for which in ("xlabel", "ylabel"):
                text = ax[which]
                if not text:  # shared axes: the label sits on a neighbouring panel
                    continue
                where = f"{name}/{label} panel {i} {which} {text!r}"
                assert UNIT.search(text), f"{where}: no unit in parentheses at the end"
                for hbar in ("ħ/2e", r"\hbar/2e"):
                    if hbar in text:
                        assert f"({hbar})" in text, f"{where}: write ({hbar}) A/m²"
            if label == "bias_dependence":
                assert ax["legend"], f"{name}/{label} panel {i} has no legend"


def test_layout_defects_finds_hidden_data_and_colliding_text():
    """Each defect of the fresh-user review is found in a figure built to have it, and a
    figure without them has none: a legend over a data point and over a curve, overlapping
    texts, colliding minor tick labels of a log axis, a y label longer than its panel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    theta = np.arange(0, 181, 30)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot(theta, 1 + np.cos(np.radians(theta)), "o", label="Kwant")
    ax.legend(loc="upper right")
    ax.set_ylim(-1, 4)  # the legend has room above the points
    assert layout_defects(fig) == []
    ax.set_ylim(0.5, 2.1)
    ax.legend(loc="upper left", fontsize=14)  # over the point at 0° (2.0)
    assert any("legend of panel 0 hides data of panel 0 ('Kwant')" in d
               for d in layout_defects(fig))
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(4, 3))
    x = np.linspace(0, 1, 200)
    ax.plot(x, 0.5 + 0 * x, label="flat curve")  # no vertex needed: the segment crosses
    ax.plot([0, 1], [0, 1], "-", label="two-point line")
    ax.legend(loc="center", fontsize=6)
    ax.set_ylim(0, 1)
    found = layout_defects(fig)
    assert any("'flat curve'" in d and "'two-point line'" in d for d in found), found
    ax.get_legend().remove()
    ax.text(0.2, 0.8, "0.77 nm")
    ax.text(0.21, 0.8, "0.60 nm")
    found = layout_defects(fig)
    assert "text '0.77 nm' of panel 0 overlaps text '0.60 nm' of panel 0" in found, found
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.2, 4.6))
    ax.loglog([0.27, 3.9], [1, 2], "o")
    ax.set_ylabel("a deviation label much longer than the panel is high, it runs past it "
                  "(dimensionless)")
    found = layout_defects(fig)
    assert any(d.startswith("x tick labels") and "overlap" in d for d in found), found
    assert any(d.startswith("y label 'a deviation") for d in found), found
    plt.close(fig)


def test_quick_study_resumes_from_its_points(tmp_path):
    """A second run of the same study reuses the stored points (same numbers)."""
    first = run_study("bias_dependence", tmp_path, quick=True, progress=False, executor="serial")
    table = (tmp_path / "sweep_symmetric.csv").read_text()
    stores = sorted((tmp_path / "points").glob("*.csv"))
    assert stores
    sizes = [p.stat().st_size for p in stores]
    second = run_study("bias_dependence", tmp_path, quick=True, progress=False, executor="serial")
    assert [p.name for p in first] == [p.name for p in second]
    assert (tmp_path / "sweep_symmetric.csv").read_text() == table
    assert [p.stat().st_size for p in stores] == sizes  # nothing appended: nothing recomputed


def test_unknown_study_is_one_line(capsys):
    code = main(["study", "no_such_study", "--quick"])
    err = capsys.readouterr().err
    assert code == 1 and "unknown study 'no_such_study'; available: " in err
    assert len(err.strip().splitlines()) == 1
