"""The HTML that Jupyter shows for a Result, a sweep and a report (``_repr_html_``)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import mlplab

VOID = {"img", "br", "hr", "meta", "input"}


class _Checker(HTMLParser):
    """Collects text and image sources; fails on a closing tag that closes nothing open."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []
        self.images: list[str] = []
        self.alts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
            self.alts.append(dict(attrs)["alt"])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):  # <img/>: opens and closes at once
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack)
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Checker:
    c = _Checker()
    c.feed(html)
    c.close()
    assert c.stack == [], c.stack  # every tag closed
    return c


@pytest.fixture(scope="module")
def xor_run(tmp_path_factory):
    log = tmp_path_factory.mktemp("runs")
    return mlplab.train(
        data="xor", n_layer=1, hid_dim=4, act="tanh", lr=0.5, epoch=200, log_every=0,
        verbose=False, log_path=str(log), plots="png",
    )  # fmt: skip


def test_result_shows_status_metrics_run_dir_and_plots(xor_run):
    c = parse(xor_run._repr_html_())
    text = " ".join(c.text)
    assert "finished" in text and str(xor_run.run_dir) in text
    assert f"{xor_run.record['test_loss']:.4f}" in text
    assert f"{xor_run.record['test_acc']:.4f}" in text
    # XOR's classes are equal: its table has no balanced accuracy or F1, as the CLI's.
    assert {"loss", "acc"} <= set(c.text) and not {"bacc", "f1"} & set(c.text)
    plots = sorted(p.stem for p in (xor_run.run_dir / "plots").glob("*.png"))
    assert plots and len(c.images) == len(plots)
    assert all(src.startswith("data:image/png;base64,") for src in c.images)


def test_a_loaded_run_shows_as_its_result_did_and_both_print_as_one_line(xor_run):
    from mlplab.restore import load_run

    loaded = load_run(xor_run.run_dir)
    c = parse(loaded._repr_html_())
    text = " ".join(c.text)
    assert "finished" in text and str(xor_run.run_dir) in text
    assert f"{xor_run.record['test_acc']:.4f}" in text and c.images
    for shown, kind in ((repr(xor_run), "Result"), (repr(loaded), "LoadedRun")):
        # The dataclass repr spelled out every array of the dataset.
        assert shown.startswith(f"<{kind} ") and "\n" not in shown and len(shown) < 300
        assert f"test_acc={xor_run.record['test_acc']:.4g}" in shown
        # XOR's classes are equal: no balanced accuracy or F1, as the CLI's table shows it.
        assert "test_bacc" not in shown and "test_f1" not in shown
        assert "test_bacc" in xor_run.metrics  # still there, for a script
        assert str(xor_run.run_dir) in shown and "finished" in shown


def test_a_result_on_unequal_classes_shows_balanced_accuracy_and_f1(tmp_path):
    """Where accuracy alone may flatter (unequal classes), the table and the repr give
    balanced accuracy and F1 beside it, as `mlplab train` prints them."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    rows = "x1,x2,y\n" + "".join(f"{a},{b},{int(a > 1.0)}\n" for a, b in X)
    (tmp_path / "u.csv").write_text(rows)
    run = mlplab.train(data=str(tmp_path / "u.csv"), epoch=3, log_every=0, verbose=False,
                       record=False)  # fmt: skip
    assert f"test_bacc={run.record['test_bacc']:.4g}, test_f1=" in repr(run)
    assert {"bacc", "f1"} <= set(parse(run._repr_html_()).text)


def test_result_shows_its_plots_at_one_scale_so_wide_ones_stay_readable(xor_run):
    import re

    from PIL import Image

    shown = dict(re.findall(r'alt="([^":]+)[^"]*" style="width:(\d+)px', xor_run._repr_html_()))
    drawn = {}
    for p in (xor_run.run_dir / "plots").glob("*.png"):
        with Image.open(p) as image:
            drawn[p.stem.replace("_", " ")] = image.size[0]
    assert shown.keys() == drawn.keys() and {"loss", "surface"} <= shown.keys()
    # The loss plot, drawn about 1.6 times as wide as the surface, is shown so too.
    scales = [int(shown[name]) / drawn[name] for name in drawn]
    assert max(scales) - min(scales) < 0.01
    assert int(shown["loss"]) > 1.4 * int(shown["surface"])


def test_a_run_with_snapshots_embeds_its_main_plots_and_names_the_animation(tmp_path, monkeypatch):
    """Every plot file was embedded: the snapshot GIF and grid took the view to 1.5 MB, which
    a saved notebook keeps."""
    import re

    from mlplab.notebook import EMBED_MAX_BYTES, EMBED_TOTAL_BYTES

    monkeypatch.chdir(tmp_path)  # a notebook's runs/, a relative folder: the rest are linked
    r = mlplab.train(data="moons", epoch=200, snapshot_every=20, verbose=False, log_path="runs")
    plots = {p.name: p.stat().st_size for p in (r.run_dir / "plots").iterdir()}
    assert plots["boundary_evolution.png"] > EMBED_MAX_BYTES  # the grid, 0.5 MB, as the GIF
    assert sum(plots.values()) > 1_000_000
    page = r._repr_html_()
    assert len(page) < 4 / 3 * EMBED_TOTAL_BYTES and len(page) < 500_000
    c = parse(page)
    shown = set(re.findall(r'alt="([^":]+)', page))  # each picture's name
    assert shown == {"loss", "surface", "confusion"} and len(c.images) == 3
    # The rest named in the text, with their sizes, linked (relative to the notebook).
    text = " ".join(c.text)
    assert "Not embedded, to keep a saved notebook small" in text
    given = r.run_dir.relative_to(tmp_path)  # as log_path gave it: Jupyter opens runs/...
    assert str(given / "plots") in text
    for name in ("boundary_evolution.gif", "boundary_evolution.png"):
        href = (given / "plots" / name).as_posix()
        assert f'<a href="{href}">{name}</a> ({plots[name] / 1024:.0f} kB)' in page


def test_result_without_a_record_has_no_plots_and_says_so():
    r = mlplab.train(data="and", model="linear", epoch=20, log_every=0, verbose=False, record=False)
    c = parse(r._repr_html_())
    assert "not recorded" in " ".join(c.text) and c.images == []


def test_a_diverged_result_says_why_and_shows_no_empty_metrics_table():
    r = mlplab.train(data="moons", lr=1e6, epoch=100, log_every=0, verbose=False, record=False)
    assert r.status == "diverged"
    page = r._repr_html_()
    text = " ".join(parse(page).text)
    assert "diverged" in text and r.record["message"][:40] in text
    assert "split" not in text  # no metrics table with a header and no rows
    finished = mlplab.train(data="and", model="linear", epoch=5, verbose=False, record=False)
    assert "message" not in " ".join(parse(finished._repr_html_()).text)


def test_html_escapes_what_it_shows(xor_run):
    from mlplab.notebook import table

    c = parse(table(["a<b>"], [["</td><script>x</script>"]]))
    assert "".join(c.text) == "a<b></td><script>x</script>"


def test_sweep_and_report_show_runs_with_status_metrics_and_dirs(tmp_path):
    res = mlplab.sweep(
        data="xor", n_layer=1, hid_dim=[2, 4], act="tanh", lr=0.5, seed=[0, 1], epoch=50,
        log_every=0, verbose=False, log_path=str(tmp_path), exp_name="g", workers=1,
    )  # fmt: skip
    sweep_text = " ".join(parse(res._repr_html_()).text)
    rep = res.report
    report = parse(rep._repr_html_())
    report_text = " ".join(report.text)
    for text in (sweep_text, report_text):
        assert "val_acc" in text and "finished" in text
        for _, run in rep.runs.iterrows():
            assert run["run_id"] in text and str(run["run_dir"]) in text
            assert f"{run['val_acc']:.4f}" in text
    assert "4" in sweep_text and str(res.spec_path) in sweep_text
    best_plots = list(Path(rep.runs.iloc[0]["run_dir"]).glob("plots/*.png"))
    assert len(report.images) == len(best_plots) > 0


def test_result_plot_gives_the_runs_plot_files_and_shows_them_in_a_notebook(tmp_path, monkeypatch):
    """`r.plot()` was an AttributeError with no hint: a student's first guess."""
    import IPython.display

    from mlplab import live

    r = mlplab.train(data="xor", epoch=3, verbose=False, log_path=str(tmp_path))
    names = [p.name for p in r.plot()]  # outside a notebook: the files, nothing shown
    assert names == sorted(r.record["plot_files"]) and "loss.png" in names
    shown = []
    monkeypatch.setattr(live, "in_jupyter", lambda: True)
    monkeypatch.setattr(IPython.display, "display", shown.append)
    assert [p.name for p in r.plot()] == names
    assert "<th></th>" not in r._repr_html_()  # its key-value table has no empty header row
    (page,) = shown
    checker = _Checker()
    checker.feed(page.data)
    assert len(checker.images) == len(names) and all(
        src.startswith("data:image/png;base64,") for src in checker.images
    )
    # A run that drew none (plots: none), one loaded back, and one that kept no record:
    # each was refused, and its user sent to a shell (`mlplab plot`) or left with none.
    shown.clear()
    bare = mlplab.train(data="xor", epoch=3, plots="none", seed=1, verbose=False,
                        log_path=str(tmp_path))  # fmt: skip
    assert not (bare.run_dir / "plots").exists()
    drawn = bare.plot()
    assert [p.name for p in drawn] == names and all(
        p.parent == bare.run_dir / "plots" for p in drawn
    )
    assert [p.name for p in mlplab.load_run(bare.run_dir).plot()] == names
    unkept = mlplab.train(data="xor", epoch=3, record=False, verbose=False).plot()
    assert [p.name for p in unkept] == names and all(p.stat().st_size > 1000 for p in unkept)
    assert len(shown) == 3  # each shown in the notebook


def test_a_key_value_tables_keys_are_row_headers_and_a_tables_head_names_columns():
    """A screen reader read the result's `status  finished` rows as two plain cells: the
    key is the row's header, each column's name the column's."""
    from mlplab.notebook import table

    keyed = table(["", ""], [["status", "finished"], ["run_dir", "runs/x"]])
    assert '<tr><th scope="row">status</th><td>finished</td></tr>' in keyed
    assert "<thead>" not in keyed
    headed = table(["split", "loss"], [["train", 0.5]])
    assert '<thead><tr><th scope="col">split</th><th scope="col">loss</th></tr></thead>' in headed
    assert "<tr><td>train</td><td>0.5000</td></tr>" in headed


def test_a_plots_alt_text_says_what_it_shows(xor_run):
    """A screen reader read "loss" and "confusion", the captions' words, for pictures."""
    from mlplab.notebook import PLOT_ALT

    c = parse(xor_run._repr_html_())
    stems = sorted(p.stem for p in (xor_run.run_dir / "plots").glob("*.png"))
    assert stems and set(stems) <= set(PLOT_ALT)
    assert sorted(c.alts) == sorted(f"{s.replace('_', ' ')}: {PLOT_ALT[s]}" for s in stems)
