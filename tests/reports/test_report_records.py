"""The report over one folder holding every record shape the config allows: hid_dim and
hid_dims, n_samples set and unset, a linear model, classification and regression, two
experiments, failed, diverged, interrupted and running runs, a damaged file and an
unknown status. Through ``mlplab report`` (a real process) and ``mlplab.report()``."""

from __future__ import annotations

import html
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlplab
from conftest import assert_one_line_error
from mlplab.errors import ConfigError
from mlplab.reports.aggregate import aggregate, mean_std_ci, metric_bounds
from mlplab.reports.api import report

TINY = {"epoch": 8, "log_every": 0, "plots": "none", "engine": "numpy", "verbose": False}


def _copy_as(run_dir: Path, name: str, **changes: object) -> Path:
    """A copy of a run under another name, its result.json changed (a run that ended so)."""
    new = run_dir.parent / name
    shutil.copytree(run_dir, new)
    record = json.loads((new / "result.json").read_text())
    record.update(changes, run_id=name)
    (new / "result.json").write_text(json.dumps(record))
    return new


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    log = tmp_path_factory.mktemp("shapes") / "runs"
    mix = {**TINY, "log_path": str(log), "exp_name": "mix"}
    kept = []
    for seed in (0, 1):
        kept.append(mlplab.train(data="ring", hid_dim=8, seed=seed, **mix).run_dir)
        mlplab.train(data="ring", hid_dims="8-4", seed=seed, **mix)
        mlplab.train(data="ring", n_samples=300, hid_dim=8, seed=seed, **mix)
        mlplab.train(data="ring", n_layer=0, hid_dim=100, act="relu", seed=seed, **mix)
        mlplab.train(data="sinlog", hid_dim=8, seed=seed, optim="adam", **mix)
        mlplab.train(data="sinlog", n_layer=0, seed=seed, optim="adam", **mix)
    mlplab.train(data="xor", hid_dim=4, log_path=str(log), exp_name="other", **TINY)
    base = kept[0]
    _copy_as(base, "mix-failed", status="failed", error="ValueError: boom", val_acc=None)
    _copy_as(base, "mix-diverged", status="diverged", message="loss is nan", val_acc=None)
    _copy_as(base, "mix-interrupted", status="interrupted", message="stopped")
    _copy_as(base, "mix-running", status="running")
    _copy_as(base, "mix-pruned", status="pruned", message="pruned at epoch 4")  # by a search
    _copy_as(base, "mix-odd", status="weird")
    damaged = _copy_as(base, "mix-damaged")
    (damaged / "result.json").write_text('{"seed": 0, "data": "ri')
    return log


def test_the_command_reports_every_shape_and_names_what_it_left_out(log: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", "report", str(log), "--out", str(log / "out")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    # One table per experiment and task kind.
    for title in ("mix (classification)", "mix (regression)", "other (classification)"):
        assert title in proc.stdout
    # The files left out, each with its reason.
    assert "left out 2 result.json files" in proc.stderr
    assert "mix-damaged" in proc.stderr and "not valid JSON" in proc.stderr
    assert "mix-odd" in proc.stderr and "unknown status 'weird'" in proc.stderr
    assert "weird" not in proc.stdout
    # A killed process never records how its run ended: no process holds the run's lock.
    assert "1 run(s) say running: 1 killed before they could record how they ended" in proc.stdout
    html = (log / "out/report.html").read_text(encoding="utf-8")
    assert "mix-damaged" in html and "unknown status" in html
    summary = pd.read_csv(log / "out/summary.csv")
    assert set(zip(summary["exp_name"], summary["task"])) == {
        ("mix", "classification"),
        ("mix", "regression"),
        ("other", "classification"),
    }
    results = pd.read_csv(log / "out/results.csv")
    assert len(results) == 2 * 6 + 1 + 5  # every usable record, the odd two left out
    statuses = {"finished", "failed", "diverged", "interrupted", "running", "pruned"}
    assert set(results["status"]) == statuses


def test_the_api_ranks_each_experiment_and_task_on_its_own(log: Path) -> None:
    rep = report(log, out=log / "api", verbose=False, figures=False)
    by = {(s.exp_name, s.kind): s for s in rep.sections}
    assert set(by) == {
        ("mix", "classification"),
        ("mix", "regression"),
        ("other", "classification"),
    }
    cls, reg = by[("mix", "classification")], by[("mix", "regression")]
    assert cls.metric == "val_acc" and reg.metric == "val_mse"
    assert set(cls.runs["task_type"]) <= {"binary", "multiclass"}
    assert set(reg.runs["task_type"]) == {"regression"}
    # The four ring models (hid_dim 8, hid_dims 8-4, n_samples 300, linear) are four
    # configs, each with its two seeds; the odd records add only to hid_dim 8's runs.
    assert len(cls.summary) == 4
    assert sorted(cls.summary["n"]) == [2, 2, 2, 2]
    assert cls.summary["runs"].sum() == 8 + 5
    # Beside hid_dims 8-4, the hid_dim 8 model's width is written as the hid_dims it
    # equals ("8"): one spelling, so that hid_dims "8" and hid_dim 8 are one config.
    assert {"hid_dims", "n_samples", "n_layer"} <= set(cls.variables)
    assert "hid_dim" not in cls.variables
    assert {"8", "8-4"} <= set(cls.summary["hid_dims"].dropna())
    # The linear model: the settings that do not apply to it are blank.
    linear = cls.summary[cls.summary["n_layer"] == 0].iloc[0]
    assert linear["hid_dims"] is None or pd.isna(linear["hid_dims"])
    header, rows = _table(cls)
    row = rows[cls.summary.index[cls.summary["n_layer"] == 0][0]]
    assert "act" in cls.variables  # relu for the MLPs, nothing for the linear model
    assert row[header.index("hid_dims")] == "" and row[header.index("act")] == ""
    # hid_dims given: hid_dim does not apply either.
    deep = cls.runs[cls.runs["hid_dims"] == "8-4"].iloc[0]
    assert pd.isna(deep["hid_dim"])


def test_a_report_of_several_experiments_says_whose_summary_it_gives(log: Path) -> None:
    """report() of a folder of three experiments gave .summary and .best_run of the first by
    name (its class docstring said so; nothing else did), and Jupyter showed only that one."""
    import warnings

    rep = report(log, out=log / "several", verbose=False, figures=False)
    assert len(rep.sections) == 3
    with pytest.warns(
        UserWarning, match=r"this report has 3 sections: .* those of the first, "
    ) as said:
        summary = rep.summary
    assert summary is rep.sections[0].summary
    assert rep.sections[0].title in str(said[0].message)
    assert all(s.title in str(said[0].message) for s in rep.sections[1:])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once a report: its next reads say nothing
        assert rep.best_run is rep.sections[0].best_run or rep.best_run.equals(
            rep.sections[0].best_run
        )
        page = rep._repr_html_()
        for sec in rep.sections:
            assert sec.title in page and sec._repr_html_().count("<table") >= 2
    one = report(log, exp_name="other", out=log / "one", verbose=False, figures=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one section: nothing to say
        assert len(one.summary) >= 1


def test_the_page_says_which_runs_its_figures_leave_out(log: Path) -> None:
    import html
    import re

    rep = report(log, out=log / "page", verbose=False)
    page = rep.html_path.read_text()
    notes = {
        title: html.unescape(body)
        for title, body in re.findall(r"<h3>Across (.+?)</h3>\n<p class=\"note\">(.+?)</p>", page)
    }
    by = {(s.exp_name, s.kind): s for s in rep.sections}
    mix = by[("mix", "classification")]
    left_out = mix.runs["status"] != "finished"
    assert left_out.sum() == 5  # failed, diverged, interrupted, pruned and running
    assert notes[mix.title].startswith(
        f"The figures draw the {len(mix.runs) - 5} finished runs of {len(mix.runs)}; "
        "the others (1 diverged, 1 failed, 1 interrupted, 1 pruned, 1 running) did not "
        "train to their end (a pruned run has the metrics of where a rule stopped it)"
    )
    assert by[("other", "classification")].title not in notes  # every run finished


def _table(section: object) -> tuple[list[str], list[list[str]]]:
    from mlplab.reports.api import table_rows

    return table_rows(section)  # type: ignore[arg-type]


def test_accuracy_intervals_stay_within_0_and_1() -> None:
    # The README's sweep: seeds at 1.0, 0.5 and 0.5 gave [-0.0504, 1.3838].
    mean, _, low, high = mean_std_ci(np.array([1.0, 0.5, 0.5]), bounds=metric_bounds("val_acc"))
    assert mean == pytest.approx(2 / 3)
    assert low == 0.0 and 0.5 < high <= 1.0
    _, _, low, high = mean_std_ci(np.array([0.9, 0.99, 1.0]), bounds=metric_bounds("test_r2"))
    assert high == 1.0
    _, _, low, _ = mean_std_ci(np.array([0.01, 0.5]), bounds=metric_bounds("val_mae"))
    assert low == 0.0


def test_equal_accuracy_is_ranked_by_validation_loss() -> None:
    runs = pd.DataFrame(
        {
            "lr": [0.1, 0.1, 1.0, 1.0],
            "seed": [0, 1, 0, 1],
            "status": ["finished"] * 4,
            # (1 + 0.5) / 2 and (0.5 + 1) / 2: equal accuracy; lr 1.0 has the lower loss.
            "val_acc": [1.0, 0.5, 0.5, 1.0],
            "val_loss": [0.0147, 0.0147, 0.0048, 0.0048],
        }
    )
    table = aggregate(runs, ["lr"], ["val_acc", "val_loss"], ("val_acc", False), ("val_loss", True))
    assert table["lr"].tolist() == [1.0, 0.1]


@pytest.mark.parametrize("kind", ["file", "read-only folder", "read-only table", "table folder"])
def test_report_out_that_cannot_be_written_is_one_line_and_exit_2(
    log: Path, tmp_path: Path, kind: str
) -> None:
    if kind == "file":
        out = tmp_path / "report.txt"
        out.write_text("not a folder")
    elif kind == "read-only folder":
        out = Path("/proc/self")  # a folder no one can write in, root included
    else:
        # The page was written anew beside the old tables, exit 1; and a table made
        # read-only (0444) was replaced by the rename, exit 0.
        out = tmp_path / "rep"
        out.mkdir()
        (out / "report.html").write_text("old page")
        if kind == "table folder":
            (out / "summary.csv").mkdir()
        else:
            (out / "results.csv").write_text("kept")
            (out / "results.csv").chmod(0o444)
    before = sorted(p.name for p in log.rglob("*"))
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", "report", str(log), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    # The folder given is named as --out; a file in it, by its path (a sweep's report,
    # which has no --out, names it so too).
    named = "--out" if kind in ("file", "read-only folder") else str(out)
    assert len(lines) == 1 and lines[0].startswith("mlplab:") and named in lines[0], lines
    assert sorted(p.name for p in log.rglob("*")) == before  # nothing written
    with pytest.raises(ConfigError, match="--out" if named == "--out" else "cannot write"):
        report(log, out=out, verbose=False, figures=False)
    if kind in ("read-only table", "table folder"):
        assert (out / "report.html").read_text() == "old page"
        assert "no file written" in lines[0]


def test_a_report_that_fills_the_disk_names_the_file_and_mixes_no_old_and_new(
    tmp_path: Path,
) -> None:
    """Under a file-size limit (the kernel's EFBIG, as a full disk refuses), a report said
    only "File too large", with new tables beside the old page. The page is written first
    and its failure named; the tables stay as they were."""
    import resource

    log = tmp_path / "runs"
    for seed in (0, 1):
        mlplab.train(data="xor", seed=seed, log_path=str(log), **TINY)
    out = tmp_path / "page"
    report(log, out=out, verbose=False, figures=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    mlplab.train(data="xor", seed=2, log_path=str(log), **TINY)  # the tables would change

    def limited() -> None:
        size = max(len(b) for name, b in before.items() if name.endswith(".csv")) + 1
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))

    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", "report", str(log), "--out", str(out)],
        capture_output=True, text=True, timeout=120, preexec_fn=limited,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, lines
    assert f"cannot write {str(out / 'report.html')!r} (File too large)" in lines[0]
    # Which files are as they were, and the command that writes them once that is mended.
    assert lines[0].endswith(
        "no file written, report.html, results.csv, summary.csv as they were; once that is "
        f"mended, `mlplab report {log} --out {out}` (report() in Python) writes the report"
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # A folder --out made anew for it is not left behind empty, and no "as they were" of
    # files that never were.
    fresh = tmp_path / "new" / "page"
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", "report", str(log), "--out", str(fresh)],
        capture_output=True, text=True, timeout=120, preexec_fn=limited,
    )  # fmt: skip
    assert proc.returncode == 1 and proc.stderr.strip().endswith(
        f"no file written, {fresh.parent} removed; once that is mended, `mlplab report {log} "
        f"--out {fresh}` (report() in Python) writes the report"
    ), proc.stderr
    assert not fresh.parent.exists()  # new/ and new/page/, both made for it
    fresh.mkdir(parents=True)  # an empty folder of the user's: kept, and no "as they were"
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", "report", str(log), "--out", str(fresh)],
        capture_output=True, text=True, timeout=120, preexec_fn=limited,
    )  # fmt: skip
    assert proc.returncode == 1 and "; no file written; once that is mended" in proc.stderr
    assert fresh.is_dir() and not list(fresh.iterdir())


def test_a_reports_lines_in_a_log_end_without_spaces(tmp_path: Path) -> None:
    """The title and caption were padded with spaces to the table's width: noise in every
    diff and log viewer, and blank-looking rows where a narrow terminal wrapped them."""
    log = tmp_path / "runs"
    for lr in (0.1, 0.5):
        mlplab.train(data="xor", lr=lr, log_path=str(log), exp_name="e", **TINY)
    proc = subprocess.run([sys.executable, "-m", "mlplab", "report", str(log / "e")],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("e (classification): 2 configs ranked by val_acc")
    assert any(line.startswith("fixed: data xor") for line in lines), proc.stdout
    assert [line for line in lines if line != line.rstrip()] == []


def test_report_of_a_sweep_over_hid_dims_into_a_folder_of_hid_dim_runs(tmp_path: Path) -> None:
    log = tmp_path / "runs"
    mlplab.train(data="xor", hid_dim=8, log_path=str(log), exp_name="e", **TINY)
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", "sweep", "--data", "xor", "--hid_dims", "8-4", "16-8",
         "--epoch", "8", "--log_every", "0", "--plots", "none", "--engine", "numpy",
         "--log_path", str(log), "--exp_name", "e", "--workers", "1"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "3 configs ranked by val_acc" in proc.stdout
    assert (log / "e/report.html").is_file()


def test_headers_are_never_cut_in_a_narrow_terminal(tmp_path: Path) -> None:
    import re

    for every in (1, 2):
        mlplab.train(
            data="xor", hid_dim=4, validate_every=every, log_path=str(tmp_path), exp_name="v",
            **TINY,
        )  # fmt: skip
    # FORCE_COLOR makes rich treat the pipe as a terminal, COLUMNS a narrow one.
    env = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": "70"}
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", "report", str(tmp_path)],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    text = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout)
    assert "validate_every" in text and "…" not in text
    assert "95% CI in [0, 1]" in text and "clipped to [0, 1]" in text
    # The last column too, whole: at 80 columns rich cropped `time (s)` to `t`, values gone.
    assert "┃ time (s) ┃" in text
    rows = [line for line in text.splitlines() if re.match(r"│ +\d+ │", line)]
    assert len(rows) == 2 and all(re.search(r"│ +\d+\.\d │$", line) for line in rows), rows


def test_a_wide_table_printed_to_a_file_is_whole(tmp_path: Path) -> None:
    """Redirected (`mlplab report LOG > out.txt`), the table was cut at 160 columns: the
    border and `time (s)` went, and "mean ± std" values wrapped onto a second line."""
    settings = [
        (0.0518571, 32, 0.364828, 1, "sigmoid", 0.000123457),
        (0.0741558, 8, 0.00136925, 2, "leaky_relu", 0.0),
        (0.00397579, 16, 0.0141598, 1, "tanh", 1.23457e-05),
    ]
    for lr, hid_dim, dp_rate, n_layer, act, l2_coef in settings:
        mlplab.train(
            data="xor", lr=lr, hid_dim=hid_dim, dp_rate=dp_rate, n_layer=n_layer, act=act,
            l2_coef=l2_coef, log_path=str(tmp_path), exp_name="wide", **TINY,
        )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR")}
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", "report", str(tmp_path)],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    table = [line.rstrip() for line in proc.stdout.splitlines() if line.startswith(("┃", "│"))]
    assert len(table) == 1 + len(settings), proc.stdout  # the header, then a line a config
    assert all(line.endswith(("┃", "│")) for line in table), proc.stdout
    assert "time (s)" in table[0] and "0.0518571" in proc.stdout


def test_non_ascii_column_names_read_as_written(tmp_path: Path) -> None:
    """Targets named étiquette and clé show as such in the table, both CSVs and the HTML,
    not as JSON escapes (\\u00e9tiquette)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 2))
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1]})
    frame["étiquette"] = (x.sum(axis=1) > 0).astype(int)
    frame["clé"] = (x[:, 0] > 0).astype(int)
    csv = tmp_path / "données.csv"
    frame.to_csv(csv, index=False, encoding="utf-8")
    log = tmp_path / "runs"
    for target, other in (("étiquette", "clé"), ("clé", "étiquette")):
        mlplab.train(data=str(csv), target=target, ignore=other, log_path=str(log), **TINY)
    env = {**os.environ, "COLUMNS": "200", "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", "report", str(log)],
        capture_output=True, text=True, encoding="utf-8", timeout=120, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    texts = {
        "table": proc.stdout,
        **{name: (log / name).read_text(encoding="utf-8") for name in
           ("results.csv", "summary.csv", "report.html")},
    }  # fmt: skip
    for name, text in texts.items():
        assert "\\u00e9" not in text, name
        assert "étiquette" in text and "clé" in text, name
    summary = pd.read_csv(log / "summary.csv", encoding="utf-8")
    assert set(summary["target"]) == {'["étiquette"]', '["clé"]'}
    # The printed table shows a list setting as the flags take it, not as JSON.
    assert '["' not in proc.stdout and "│ étiquette" in proc.stdout


def test_an_experiment_whose_runs_all_diverged_is_listed_unranked(tmp_path: Path) -> None:
    """No run has a metric to rank by: the report (and a sweep's) had ended in KeyError."""
    log = tmp_path / "runs"
    for lr in (1e8, 1e9):  # sgd on moons: the loss overflows within a few steps
        res = mlplab.train(
            data="moons", lr=lr, optim="sgd", log_path=str(log), exp_name="dv", **TINY
        )
        assert res.status == "diverged"
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", "report", str(log)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    summary = pd.read_csv(log / "summary.csv")
    assert list(summary["rank"]) == [1, 2] and list(summary["n"]) == [0, 0]
    assert proc.stdout.count("1 diverged") == 2


def test_a_regression_whose_runs_all_diverged_is_headed_by_its_default_metric(tmp_path):
    """With no finished run, the heading said `ranked by val_mae`, the fallback for old
    records that lack val_mse, where a sweep with finished runs says val_mse."""
    log = tmp_path / "runs"
    for lr in (1e8, 1e9):
        res = mlplab.train(data="sine", lr=lr, optim="sgd", log_path=str(log), **TINY)
        assert res.status == "diverged"
    rep = report(log, out=tmp_path / "page", verbose=False, figures=False)
    assert [s.metric for s in rep.sections] == ["val_mse"]


def test_a_table_of_targets_in_the_millions_stays_narrow(tmp_path: Path) -> None:
    """MSEs of prices around 1e6 were printed as 104931014.4000 ± 1598355.4819."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=40)})
    df["price"] = 1e6 + 2e5 * df.x
    df.to_csv(tmp_path / "prices.csv", index=False)
    for seed in (0, 1):
        mlplab.train(
            data=str(tmp_path / "prices.csv"),
            lr=1e-9,
            seed=seed,
            log_path=str(tmp_path / "runs"),
            **TINY,
        )
    rep = report(tmp_path / "runs", out=tmp_path / "page", verbose=False, figures=False)
    header, rows = _table(rep.sections[0])
    loss = rows[0][header.index("val_mse")]
    assert re.fullmatch(r"\d\.\d{3}e\+1\d ± \d\.\d{1,3}e\+\d\d", loss), loss


def test_runs_of_one_config_and_seed_count_once(tmp_path: Path) -> None:
    """A linear model swept over hid_dim trains the same model for each hid_dim: the
    report blanks hid_dim and counted both runs of each seed, which narrowed the interval
    (seeds 2, ± 0.0000 and the interval [0.79, 0.79] from a single seed)."""
    log = tmp_path / "runs"
    for hid_dim in (8, 16):
        for seed in (0, 1, 2):
            mlplab.train(
                data="moons", model="linear", hid_dim=hid_dim, seed=seed, log_path=str(log), **TINY
            )
    rep = report(log, out=tmp_path / "page", verbose=False, figures=False)
    (row,) = rep.sections[0].summary.to_dict("records")
    assert (row["runs"], row["n"], row["repeats"], row["seeds"]) == (6, 3, 3, "0, 1, 2")
    accs = rep.sections[0].runs.drop_duplicates("seed")["val_acc"].to_numpy()
    assert row["val_acc_std"] == pytest.approx(np.std(accs, ddof=1))


def test_a_result_json_set_beside_run_folders_hides_none_of_them(tmp_path: Path) -> None:
    """A copy of one run's result.json set in its experiment's folder (a result kept
    aside), or at the top of a class's folder, made that folder a run: the runs below it
    were not read, and the report gave one run, without a word."""
    log = tmp_path / "runs"
    for seed in (0, 1, 2):
        mlplab.train(data="xor", hid_dim=4, seed=seed, log_path=str(log), **TINY)
        mlplab.train(data="xor", hid_dim=4, seed=seed, log_path=str(log), exp_name="b", **TINY)
    kept = next((log / "exp").glob("exp-*/result.json"))
    for stray in (log / "exp" / "result.json", log / "result.json"):
        shutil.copy(kept, stray)
    rep = report(log, out=tmp_path / "page", verbose=False, figures=False)
    assert [len(sec.runs) for sec in rep.sections] == [3, 3]  # b and exp, each whole
    assert sorted((s.path, s.reason) for s in rep.skipped) == [
        (stray, "not a run's record: its folder holds runs (a copy set beside them?)")
        for stray in (log / "exp" / "result.json", log / "result.json")
    ]
    # The folder itself (it was refused as "a run folder", whose record the page would
    # change), and by exp_name: its runs, the page beside them.
    for folder, exp_name in ((log / "exp", None), (log, "exp")):
        rep = report(folder, exp_name=exp_name, verbose=False, figures=False)
        assert len(rep.runs) == 3 and rep.html_path == log / "exp" / "report.html"


def test_linked_experiments_and_runs_are_reported_each_once(tmp_path: Path) -> None:
    """A course's reference runs linked into one's runs/ were left out ("no runs under
    'runs2'"), though --exp_name of the link reported them; a link back into the folder
    (or above it) must neither count its runs twice nor loop."""
    ref = tmp_path / "course" / "runs"
    for seed in (0, 1):
        mlplab.train(data="xor", hid_dim=4, seed=seed, log_path=str(ref), exp_name="ref", **TINY)
    mine = tmp_path / "mine"
    mlplab.train(data="xor", hid_dim=3, log_path=str(mine), exp_name="own", **TINY)
    (mine / "ref").symlink_to(ref / "ref")  # a linked experiment beside a real one
    (mine / "own-again").symlink_to(mine / "own")  # a second name for one of its own
    (mine / "own" / "loop").symlink_to(mine)  # a link above the walk
    rep = report(mine, out=tmp_path / "page", verbose=False, figures=False)
    dirs = [Path(d) for sec in rep.sections for d in sec.runs["run_dir"]]
    assert sorted(d.parent.name for d in dirs) == ["own", "ref", "ref"]  # through the links
    # Links to run folders, gathered into a folder of one's choice.
    picked = tmp_path / "picked" / "choice"
    picked.mkdir(parents=True)
    for run in (ref / "ref").iterdir():
        if run.is_dir():
            (picked / run.name).symlink_to(run)
    assert len(report(picked, out=tmp_path / "page2", verbose=False, figures=False).runs) == 2


def test_copies_of_a_run_that_differ_are_named_and_a_stopped_copy_demotes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A class's folder holds each student's copy of the same runs: where two finished
    copies differ, the first in folder order counted without a word; and a copy taken
    mid-run (interrupted) sent a config whose every seed finished below the others."""
    alice = tmp_path / "class" / "alice"
    for lr in (0.5, 2.0):
        for seed in (0, 1):
            mlplab.train(data="xor", lr=lr, hid_dim=4, seed=seed, log_path=str(alice), **TINY)
    shutil.copytree(alice, tmp_path / "class" / "bob")
    first = report(tmp_path / "class", out=tmp_path / "page", verbose=False, figures=False).summary
    best = first.iloc[0]["lr"]
    bob = sorted((tmp_path / "class" / "bob" / "exp").glob("*/result.json"))
    stopped = next(p for p in bob if json.loads(p.read_text())["lr"] == best)
    record = json.loads(stopped.read_text())
    stopped.write_text(json.dumps({**record, "status": "interrupted"}))
    ranked = report(tmp_path / "class", out=tmp_path / "page", verbose=False, figures=False).summary
    assert ranked.iloc[0]["lr"] == best and ranked["rank"].tolist() == [1, 2]
    assert ranked.iloc[0]["statuses"] == "3 finished, 1 interrupted"
    edited = next(p for p in bob if p != stopped)
    record = json.loads(edited.read_text())
    edited.write_text(json.dumps({**record, "val_acc": 1 - record["val_acc"] / 2}))
    report(tmp_path / "class", out=tmp_path / "page")
    (note,) = [n for n in capsys.readouterr().out.splitlines() if "finished copies" in n]
    twin = alice / "exp" / edited.parent.name
    assert note == (
        f"report: note: 1 config(s) and seed(s) have finished copies whose val_acc differ "
        f"({twin}: {record['val_acc']:.4g}, {edited.parent}: {1 - record['val_acc'] / 2:.4g}); "
        "the first, in folder order, is the one counted: keep the right one"
    )


def test_a_record_without_a_later_setting_is_a_replicate_of_newer_runs(tmp_path: Path) -> None:
    """A record written before min_delta existed left the column blank: its config split
    from the newer runs' (two configs of one seed each), and min_delta looked swept."""
    log = tmp_path / "runs"
    dirs = [
        mlplab.train(data="moons", model="linear", seed=seed, log_path=str(log), **TINY).run_dir
        for seed in (0, 1, 2)
    ]
    older = json.loads((dirs[2] / "result.json").read_text())
    del older["min_delta"]
    (dirs[2] / "result.json").write_text(json.dumps(older))
    # A record without a seed (edited by hand) is a run of its own, not a repeat.
    unseeded = _copy_as(dirs[0], "no-seed")
    record = json.loads((unseeded / "result.json").read_text())
    del record["seed"]
    (unseeded / "result.json").write_text(json.dumps(record))
    rep = report(log, out=tmp_path / "page", verbose=False, figures=False)
    assert "min_delta" not in rep.variables
    (row,) = rep.sections[0].summary.to_dict("records")
    assert (row["runs"], row["n"], row["repeats"]) == (4, 4, 0)


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ({"seed": None}, "setting 'seed' is None, not a number"),
        ({"lr": "abc"}, "setting 'lr' is 'abc', not a number"),
        ({"val_acc": "x"}, "result 'val_acc' is 'x', not a number"),
        ({"val_acc": 1.7}, "result 'val_acc' is 1.7, not an accuracy in [0, 1]"),
        ({"test_bacc": -0.1}, "result 'test_bacc' is -0.1, not an accuracy in [0, 1]"),
        ({"val_f1": 2.0}, "result 'val_f1' is 2.0, not an F1 score in [0, 1]"),
        # Edited in (mlplab writes null): a regression's ranking went to val_mae unsaid.
        (
            {"val_loss": math.nan},
            "result 'val_loss' is nan, not a finite number (mlplab writes null)",
        ),
        (
            {"val_mse": math.inf},
            "result 'val_mse' is inf, not a finite number (mlplab writes null)",
        ),
    ],
)
def test_a_record_with_a_value_of_the_wrong_type_is_left_out_and_named(
    tmp_path: Path, edit: dict, reason: str
) -> None:
    """Valid JSON with seed null crashed the report (a traceback); 'x' as val_acc was
    counted as a run without a number, silently."""
    log = tmp_path / "runs"
    runs = [mlplab.train(data="xor", seed=s, log_path=str(log), **TINY) for s in (0, 1)]
    result = runs[0].run_dir / "result.json"
    result.write_text(json.dumps({**json.loads(result.read_text()), **edit}))
    rep = report(log, out=tmp_path / "page", verbose=False, figures=False)
    assert [(s.path, s.reason) for s in rep.skipped] == [(result, reason)]
    assert rep.sections[0].summary["n"].tolist() == [1]


def test_a_finished_record_missing_a_metric_or_a_run_missing_its_record_is_named(
    tmp_path: Path,
) -> None:
    """A finished result.json without its val_acc made a mean of val_acc over one seed
    in a row that says two; a run folder whose result.json was deleted vanished from the
    table. Both are left out by name."""
    log = tmp_path / "runs"
    runs = [mlplab.train(data="xor", seed=s, log_path=str(log), **TINY) for s in (0, 1, 2)]
    edited = runs[0].run_dir / "result.json"
    record = json.loads(edited.read_text())
    del record["val_acc"]
    edited.write_text(json.dumps(record))
    deleted = runs[1].run_dir / "result.json"
    deleted.unlink()
    rep = report(log, out=tmp_path / "page", verbose=False, figures=False)
    assert sorted((s.path, s.reason.split(":")[0].split(",")[0]) for s in rep.skipped) == sorted(
        [(edited, "finished"), (deleted, "missing")]
    )
    assert "'val_acc' is missing" in {s.path: s.reason for s in rep.skipped}[edited]
    assert rep.sections[0].summary["n"].tolist() == [1]
    # null is no value either: it was counted, a mean over one seed in a row of two.
    edited.write_text(json.dumps({**record, "val_acc": None}))
    rep = report(log, out=tmp_path / "page", verbose=False, figures=False)
    assert "'val_acc' is missing" in {s.path: s.reason for s in rep.skipped}[edited]
    assert rep.sections[0].summary["n"].tolist() == [1]
    # A project's own config.yaml beside its checkpoints/ and a metrics.csv: no run.
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "model.pt").write_bytes(b"")
    (tmp_path / "config.yaml").write_text("lr: 0.1\n")
    (tmp_path / "metrics.csv").write_text("step,loss\n")
    rep = report(tmp_path, out=tmp_path / "page", verbose=False, figures=False)
    assert sorted(s.path for s in rep.skipped) == sorted([edited, deleted])


def test_runs_of_other_lengths_in_the_experiment_draw_no_warning(tmp_path: Path) -> None:
    """A sweep of 5-epoch runs into a folder that holds a 1500-epoch run of the lab: the
    epochs no run of a panel reached were an All-NaN slice (a RuntimeWarning leaked)."""
    from conftest import EXAMPLES

    log = str(tmp_path / "runs")
    lab = str(EXAMPLES / "xor_nn.yaml")
    mlplab.train(lab, seed=1, epoch=1500, log_path=log, verbose=False, plots="none")
    # Warnings are errors in the tests: the report's figures must draw without one.
    done = mlplab.sweep(lab, lr=[0.5, 1.0], epoch=5, log_every=0, verbose=False, plots="none",
                        workers=1, log_path=log)  # fmt: skip
    assert done.report is not None and len(done.report.runs) == 3
    assert (tmp_path / "runs" / "xor-nn" / "report.html").is_file()


def test_a_boolean_setting_reads_as_flags_spell_it(tmp_path: Path) -> None:
    """standardize showed auto beside Python's False."""
    log = str(tmp_path / "runs")
    for value in ("auto", False):
        mlplab.train(data="iris", standardize=value, log_path=log, **TINY)
    rep = report(log, out=tmp_path / "page", verbose=False)
    header, rows = _table(rep.sections[0])
    shown = {row[header.index("standardize")] for row in rows}
    assert shown == {"auto", "false"}


def test_results_csv_never_invents_a_log_path(tmp_path: Path) -> None:
    """Records leave log_path out (they move); the table filled it with the default 'runs'
    for runs that were under another folder. run_dir says where each run is."""
    log = tmp_path / "elsewhere"
    mlplab.train(data="xor", log_path=str(log), **TINY)
    rep = mlplab.report(str(log), verbose=False, figures=False)
    runs = pd.read_csv(rep.csv_path)
    assert "log_path" not in runs.columns or runs["log_path"].isna().all()
    assert Path(runs["run_dir"].iloc[0]).parent.parent == log


def test_results_csv_names_each_run_folder_from_anywhere(tmp_path, monkeypatch) -> None:
    """Reported from one folder by a relative path and written elsewhere with out=, the
    run_dir column was relative to the folder the report ran in: read beside the CSV, or
    from any other folder, it led nowhere."""
    mlplab.train(data="xor", log_path=str(tmp_path / "runs"), **TINY)
    monkeypatch.chdir(tmp_path)
    rep = mlplab.report("runs", out=tmp_path / "page", verbose=False, figures=False)
    monkeypatch.chdir(tmp_path / "page")
    run_dir = Path(pd.read_csv("results.csv")["run_dir"].iloc[0])
    assert run_dir.is_absolute() and (run_dir / "result.json").is_file()
    assert mlplab.load_run(run_dir).record["run_id"] == run_dir.name
    assert rep.sections[0].best_run["run_dir"] == str(run_dir)


def test_a_config_trained_on_two_versions_of_its_file_is_noted(tmp_path, capsys):
    """Seeds 0 and 1 trained, the file changed, seed 2 trained: the report pooled the three
    as replicates of one config, with no word (a sweep refuses to mix them)."""
    from mlplab import train

    def write(seed: int) -> None:
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(60, 3))
        y = (X[:, 0] + (1 if seed else -1) * X[:, 1] > 0).astype(int)
        pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "y": y}).to_csv(
            tmp_path / "tab.csv", index=False
        )

    common = dict(data=str(tmp_path / "tab.csv"), epoch=3, plots="none", log_every=0)
    write(0)
    for seed in (0, 1):
        train(**common, seed=seed, log_path=str(tmp_path / "runs"), verbose=False)
    report(tmp_path / "runs", out=tmp_path / "before")
    assert "different contents" not in capsys.readouterr().out
    write(1)
    train(**common, seed=2, log_path=str(tmp_path / "runs"), verbose=False)
    report(tmp_path / "runs", out=tmp_path / "after")
    out = capsys.readouterr().out
    assert "configs whose runs trained on different contents of their data file: 1 in exp" in out
    digests = pd.read_csv(tmp_path / "after" / "results.csv")["data_digest"]
    assert digests.nunique() == 2


@pytest.mark.parametrize("exp_name", ["../L2", "L2/exp", ".."])
def test_report_exp_name_is_a_name_not_a_path(run_cli, tmp_path, exp_name):
    """`mlplab report L1 --exp_name ../L2` read L2 and wrote report.html into it."""
    for log in ("L1", "L2"):
        args = ("--data", "xor", "--epoch", "2", "--plots", "none", "--log_path", log, "-q")
        assert run_cli("train", *args, cwd=tmp_path).returncode == 0
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    proc = run_cli("report", "L1", "--exp_name", exp_name, cwd=tmp_path)
    assert_one_line_error(proc, f"report: exp_name {exp_name!r} is one experiment's folder name")
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_seeds_that_tie_are_said_to_agree_not_to_be_certain(tmp_path: Path, capsys) -> None:
    """Two seeds with one accuracy gave a 95% CI of no width, read as certainty."""
    log = tmp_path / "runs"
    common = {**TINY, "log_path": str(log), "exp_name": "tie", "data": "ring"}
    runs = [mlplab.train(hid_dim=w, seed=s, **common).run_dir for w in (4, 8) for s in (0, 1)]
    first = json.loads((runs[0] / "result.json").read_text())
    _copy_as(runs[1], runs[1].name + "-t", val_acc=first["val_acc"])  # seed 1 ties seed 0
    shutil.rmtree(runs[1])
    capsys.readouterr()
    rep = report(log, verbose=True)
    out = capsys.readouterr().out
    tied = rep.summary[rep.summary["hid_dim"] == 4].iloc[0]
    assert tied["val_acc_ci_low"] == tied["val_acc_ci_high"] == first["val_acc"]
    assert (
        f"report: note: 1 config(s) got the same val_acc from every seed (e.g. "
        f"{first['val_acc']:g} from each of 2 seeds): their interval has no width, which says "
        "the seeds agreed, not that another seed would"
    ) in " ".join(out.split())
    # The page says it too, and a quiet report's page: its reader sees no printout.
    rep = report(log, out=tmp_path / "quiet", verbose=False, figures=False)
    assert capsys.readouterr().out == ""
    page = html.unescape(rep.html_path.read_text(encoding="utf-8"))
    assert "Read the tables with" in page
    assert "which says the seeds agreed, not that another seed would" in " ".join(page.split())


def test_report_with_no_folder_reads_runs_where_train_writes(run_cli, tmp_path) -> None:
    """`mlplab report` alone said 'the following arguments are required: LOG_PATH'."""
    assert_one_line_error(
        run_cli("report", cwd=tmp_path),
        f"report: 'runs' is not a folder (nothing is there in {tmp_path}: no run has been "
        "written to it)",
    )
    trained = run_cli(
        "train", "--data", "xor", "--epoch", "5", "-q", "--plots", "none", cwd=tmp_path
    )
    assert trained.returncode == 0, trained.stderr
    proc = run_cli("report", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "runs" / "report.html").is_file()
    # -q, as train and sweep take it: the files, and nothing printed.
    (tmp_path / "runs" / "report.html").unlink()
    quiet = run_cli("report", "-q", cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == "", quiet
    assert (tmp_path / "runs" / "report.html").is_file()


def test_a_report_with_no_usable_run_names_the_files_and_why(run_cli, tmp_path) -> None:
    """With no run usable, the line said only '(1 result.json file could not be used)',
    leaving its user to hunt for the file and guess what was wrong with it."""
    exp = tmp_path / "runs" / "exp"
    for name, text in [
        ("exp-aaaaaa", '{"seed": 0, "data": "xo'),  # cut short as it was written
        ("exp-bbbbbb", '{"status": "done"}'),
        ("exp-cccccc", "[1, 2]"),
        ("exp-dddddd", "{}"),
        ("exp-eeeeee", "{}"),
    ]:
        (exp / name).mkdir(parents=True)
        (exp / name / "result.json").write_text(text)
    before = sorted(tmp_path.rglob("*"))
    proc = run_cli("report", tmp_path / "runs", "--exp_name", "exp")
    line = assert_one_line_error(
        proc,
        f"report: no runs (result.json files) under {str(exp)!r} (5 result.json files could "
        "not be used: 'exp-aaaaaa/result.json': not valid JSON (Unterminated string",
        "; 'exp-bbbbbb/result.json': unknown status 'done' (expected one of running,",
        "pruned); 'exp-cccccc/result.json': not a JSON object; and 2 more)",
    )
    assert "exp-dddddd" not in line  # three named, the rest counted
    assert sorted(tmp_path.rglob("*")) == before
    (exp / "exp-bbbbbb").rename(exp / ".exp-bbbbbb.1234.rerun")  # a rerun's scratch folder
    for name in ("exp-cccccc", "exp-dddddd", "exp-eeeeee"):
        shutil.rmtree(exp / name)
    proc = run_cli("report", tmp_path / "runs")
    assert_one_line_error(
        proc,
        "(1 result.json file could not be used: 'exp/exp-aaaaaa/result.json': not valid JSON",
    )


def test_a_value_near_zero_prints_its_digits_not_a_signed_zero(tmp_path: Path) -> None:
    """A regression whose test R² was -0.00001 printed `-0.0000` in the table, then
    `0.0000`: a nonzero R² read as an exact 0."""
    log = tmp_path / "runs"
    mlplab.train(data="sine", epoch=2, plots="none", verbose=False, log_path=str(log))
    (path,) = log.rglob("result.json")
    path.write_text(json.dumps({**json.loads(path.read_text()), "test_r2": -1e-5}))
    header, rows = _table(report(log, verbose=False, figures=False).sections[0])
    assert rows[0][header.index("test_r2")] == "-1.000e-05"


def test_a_run_folder_that_cannot_be_listed_or_a_record_that_is_a_fifo_is_named() -> None:
    """A run folder its reader may not list was passed over without a word (os.walk skips
    it), and a result.json that is a FIFO hung the report, waiting for a writer."""
    import tempfile

    as_nobody = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]
    prefix = as_nobody if os.geteuid() == 0 else []  # root lists any folder
    if prefix and subprocess.run([*prefix, sys.executable, "-c", "import mlplab"]).returncode:
        pytest.skip("user nobody cannot run this Python")
    base = Path(tempfile.mkdtemp(prefix="mlplab-unlisted-"))
    try:
        base.chmod(0o777)
        log = base / "runs"
        for seed in (0, 1, 2):
            mlplab.train(data="xor", seed=seed, log_path=str(log), **TINY)
        fifo, closed, _ = sorted(p for p in (log / "exp").iterdir() if p.is_dir())
        (fifo / "result.json").unlink()
        os.mkfifo(fifo / "result.json")
        closed.chmod(0)
        proc = subprocess.run(
            [*prefix, sys.executable, "-m", "mlplab", "report", str(log), "--out", str(base / "r")],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert f"{fifo / 'result.json'}: not a regular file" in proc.stderr
        assert f"{closed}: a folder that cannot be listed (Permission denied)" in proc.stderr
        assert "left out 2 result.json files" in proc.stderr
    finally:
        closed.chmod(0o755)
        shutil.rmtree(base)


def test_curves_edited_into_lists_or_text_are_left_undrawn(tmp_path: Path) -> None:
    """A train_losses of nested lists stopped the report with a broadcasting traceback (and
    one of mixed lists and objects with another); the other runs' curves are still drawn."""
    from mlplab.reports.plots import curve_set

    log = tmp_path / "runs"
    for seed in (0, 1, 2):
        mlplab.train(data="xor", seed=seed, log_path=str(log), **TINY)
    first, second, third = sorted((log / "exp").glob("*/result.json"))
    for file, damage in ((first, {"train_losses": [[1, 2], [3, 4]]}),
                         (second, {"train_losses": [[1, [2]], {"a": 3}], "val_epochs": [[1]]})):  # fmt: skip
        file.write_text(json.dumps({**json.loads(file.read_text()), **damage}))
    result = report(log, out=tmp_path / "rep", verbose=False, figures=False)
    runs = result.sections[0].runs.reset_index(drop=True)
    curves = curve_set(runs, "loss")
    assert curves is not None
    drawn = ~np.isnan(curves.train).all(axis=1)
    intact = runs["run_dir"].map(lambda d: Path(d) / "result.json" == third)
    assert drawn.tolist() == intact.tolist()  # the intact run alone is drawn
    # Epochs that end in null (NaN), first in the table, made every run's grid [nan]: all
    # curves blank; a number past float's range (valid JSON) was an OverflowError, exit 1.
    fresh = mlplab.report(log, out=tmp_path / "rep2", verbose=False, figures=False).sections[0].runs
    fresh = fresh.reset_index(drop=True)
    good = fresh.loc[intact.to_numpy(), ["train_losses", "val_epochs"]].iloc[0]
    edited = pd.concat([fresh.loc[intact.to_numpy()]] * 3, ignore_index=True)
    edited.at[0, "val_epochs"] = [*good["val_epochs"][:-1], None]
    edited.at[1, "train_losses"] = [*good["train_losses"][:-1], 10**400]
    curves = curve_set(edited, "loss")
    assert curves is not None and np.isfinite(curves.epochs).all()
    assert (~np.isnan(curves.train).all(axis=1)).tolist() == [False, False, True]


def test_a_regression_section_with_a_record_missing_val_mse_ranks_by_the_mae(
    tmp_path: Path,
) -> None:
    """The fall-back looked at the whole report: a section where one record lacked val_mse
    ranked its best config last, by a mean of fewer seeds than it said. It falls back to
    val_mae, in the target's units as val_mse is (the loss is not, under
    standardize_target)."""
    log = tmp_path / "runs"
    for lr in (0.01, 0.001):
        for seed in (0, 1):
            mlplab.train(data="sinlog", n_samples=200, lr=lr, seed=seed, optim="adam",
                         log_path=str(log), exp_name="old", **TINY)  # fmt: skip
    mlplab.train(data="sinlog", n_samples=200, log_path=str(log), exp_name="new", **TINY)
    edited = sorted((log / "old").glob("*/result.json"))[0]
    record = json.loads(edited.read_text())
    edited.write_text(json.dumps({k: v for k, v in record.items() if not k.endswith("_mse")}))
    rep = report(log, out=tmp_path / "page", verbose=False, figures=False)
    metrics = {s.exp_name: s.metric for s in rep.sections}
    assert metrics == {"old": "val_mae", "new": "val_mse"}
    old = next(s for s in rep.sections if s.exp_name == "old").summary
    assert old["val_mae_mean"].tolist() == sorted(old["val_mae_mean"])


def test_a_copied_run_folder_counts_once_and_the_note_says_why(tmp_path: Path, capsys) -> None:
    """A run folder copied beside itself under another name counted once, but the note
    said the two runs "differ only in settings that their model does not use"."""
    log = tmp_path / "runs"
    run_dir = mlplab.train(data="xor", log_path=str(log), **TINY).run_dir
    shutil.copytree(run_dir, run_dir.parent / "renamed")
    rep = report(log, out=tmp_path / "page", verbose=True)
    assert rep.summary["n"].tolist() == [1] and rep.summary["repeats"].tolist() == [1]
    assert "(a copy of a run folder, renamed or copied in," in capsys.readouterr().out


def test_a_sweeps_run_with_no_record_is_named_by_the_report(tmp_path: Path, capsys) -> None:
    """A seed's folder deleted: its config ranked on the other seeds without a word (a
    damaged result.json is named; a missing one was not)."""
    import shutil

    from mlplab import report, sweep

    log = tmp_path / "runs"
    done = sweep(
        data="xor", lr=[0.1, 0.5], seed=[0, 1], epoch=3, log_every=0, plots="none",
        log_path=str(log), exp_name="gone", workers=1, report=False, verbose=False,
    )  # fmt: skip
    ids = sorted(p.name for p in (log / "gone").iterdir() if (p / "result.json").exists())
    assert len(ids) == 4 and done.counts["trained"] == 4
    report(log, exp_name="gone", verbose=False, figures=False)
    assert "have no folder" not in (log / "gone" / "report.html").read_text(encoding="utf-8")
    shutil.rmtree(log / "gone" / ids[1])
    rep = report(log, verbose=True)  # the whole log_path: the spec one folder down
    assert rep.summary["runs"].sum() == 3
    spec = next((log / "gone").glob("sweep-*.yaml")).name
    note = (
        f"report: note: 1 run(s) that {spec} lists have no folder ({ids[1]}): their "
        "configs rank on the runs that have one; the same sweep command trains them again"
    )
    assert note in capsys.readouterr().out
    assert note.removeprefix("report: note: ") in (log / "report.html").read_text(encoding="utf-8")
    # A folder left without its result.json is named once, as a file left out, not twice.
    from mlplab.reports.collect import runs_without_record

    (log / "gone" / ids[2] / "result.json").unlink()
    assert runs_without_record(log) == {spec: [ids[1]]}


def test_a_result_json_nested_too_deep_is_left_out_not_a_traceback(tmp_path: Path, run_cli) -> None:
    """Arrays in arrays 100,000 deep overflow the JSON parser's stack: report, plot and
    predict ended in a RecursionError traceback."""
    import mlplab
    from conftest import assert_one_line_error

    good = mlplab.train(data="xor", epoch=5, log_every=0, plots="none", verbose=False,
                        log_path=str(tmp_path / "runs"), exp_name="t1")  # fmt: skip
    bad = good.run_dir.parent / "t1-cccccc"
    shutil.copytree(good.run_dir, bad)
    (bad / "result.json").write_text('{"x":' + "[" * 100_000 + "]" * 100_000 + "}")
    proc = run_cli("report", tmp_path / "runs", "-q")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{bad / 'result.json'}: not valid JSON (nested too deep)" in proc.stderr
    assert_one_line_error(run_cli("plot", bad, "--out", tmp_path / "p"), "no readable result.json")
    new = tmp_path / "new.csv"
    new.write_text("x1,x2\n0,1\n")
    pred = run_cli("predict", bad, "--data", new)
    assert pred.returncode == 0 and "Traceback" not in pred.stderr, pred.stderr
    assert "result.json is missing or unreadable" in pred.stderr


def test_pages_embed_only_the_plain_picture_files_of_a_run(tmp_path: Path, run_cli) -> None:
    """A link in a run's plots folder (a run folder handed over) put the file it named,
    /etc/passwd or a key, into the self-contained report.html and the notebook's view; a
    FIFO there made the report wait for ever."""
    import base64

    import mlplab

    run = mlplab.train(data="xor", epoch=5, log_every=0, verbose=False,
                       log_path=str(tmp_path / "runs"), exp_name="t1")  # fmt: skip
    secret = tmp_path / "id_key"
    secret.write_bytes(b"-----BEGIN PRIVATE KEY----- not for sharing")
    plots = run.run_dir / "plots"
    (plots / "loss.png").unlink()
    (plots / "loss.png").symlink_to(secret)
    os.mkfifo(plots / "fifo.png")
    proc = run_cli("report", tmp_path / "runs", "-q", "--out", tmp_path / "out", timeout=60)
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    leaked = base64.b64encode(secret.read_bytes()).decode()[:40]
    assert leaked not in page
    surface = base64.b64encode((plots / "surface.png").read_bytes()).decode()
    assert surface in page  # the run's own pictures are still there
    view = mlplab.load_run(run.run_dir, data=False)._repr_html_()
    assert leaked not in view and surface in view
    # The plots folder itself a link: the pictures of the folder it names stay out too.
    private = tmp_path / "Pictures"
    private.mkdir()
    (private / "holiday.png").write_bytes((plots / "surface.png").read_bytes()[:-8] + b"private!")
    os.unlink(plots / "fifo.png")
    plots.rename(tmp_path / "own-plots")
    plots.symlink_to(private, target_is_directory=True)
    proc = run_cli("report", tmp_path / "runs", "-q", "--out", tmp_path / "out2", timeout=60)
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "out2" / "report.html").read_text(encoding="utf-8")
    holiday = base64.b64encode((private / "holiday.png").read_bytes()).decode()[-40:]
    assert holiday not in page
    assert holiday not in mlplab.load_run(run.run_dir, data=False)._repr_html_()


def test_report_out_dash_is_refused_not_made_a_folder_named_dash(
    log: Path, run_cli, tmp_path
) -> None:
    """`predict --out -` prints to standard output; `report --out -` quietly made a folder
    named "-" in the current folder. `./-` still names such a folder."""
    proc = run_cli("report", log, "--out", "-", cwd=tmp_path)
    assert_one_line_error(proc, "report --out '-': a report is a folder of files")
    assert not (tmp_path / "-").exists()
    assert run_cli("report", log, "--out", "./-", "--quiet", cwd=tmp_path).returncode == 0
    assert (tmp_path / "-" / "report.html").is_file()


def test_runs_scored_on_their_training_rows_are_named_in_the_record_and_report(
    tmp_path: Path, capsys
) -> None:
    """An estimator's fit with validation_fraction=0 wrote val_acc and test_acc of its
    training rows (0.97 each, 0.93 on rows held out), marked nowhere, and the report
    ranked it first."""
    from mlplab.sklearn import MLPClassifier

    X = np.random.default_rng(0).normal(size=(120, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    shared = {}
    for fraction in (0.0, 0.25):
        est = MLPClassifier(epoch=3, validation_fraction=fraction, log_path=str(tmp_path),
                            plots="none")  # fmt: skip
        est.fit(X, y)
        shared[fraction] = json.loads((est.run_dir_ / "result.json").read_text())["shared_rows"]
    run = mlplab.train(data="moons", log_path=str(tmp_path), **TINY)
    assert shared == {0.0: "train = val = test", 0.25: "val = test"}
    assert run.record["shared_rows"] is None
    mlplab.train(data="xor", log_path=str(tmp_path), **TINY)  # the gates: its fixed line says so
    mlplab.report(tmp_path)
    (note,) = [n for n in capsys.readouterr().out.splitlines() if "rows they trained on" in n]
    assert note.startswith("report: note: 1 run(s) (e.g. ")


def test_a_picture_swapped_for_a_link_after_it_was_listed_is_not_embedded(tmp_path, monkeypatch):
    """The page's pictures were checked (a plain file, no link) and then read by name: a
    run folder's owner who swapped one for a link in between put any file the reporting
    user may read into report.html, in a class's shared folder."""
    import base64

    from mlplab import notebook

    log = tmp_path / "runs"
    mlplab.train(data="xor", epoch=3, log_path=str(log), verbose=False, plots="png")
    (run,) = (log / "exp").glob("exp-*")
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\n" + b"private marks " * 50)
    listed = notebook.plot_files

    def swapped(folder, suffixes=notebook.IMAGE_MIME):  # the swap, right after the listing
        files = listed(folder, suffixes)
        for p in files:
            if p.name == "loss.png":
                p.unlink()
                p.symlink_to(secret)
        return files

    monkeypatch.setattr(notebook, "plot_files", swapped)
    page = report(log, verbose=False).html_path.read_text(encoding="utf-8")
    assert base64.b64encode(secret.read_bytes()[:30]).decode()[:20] not in page
    assert "surface" in page  # the other pictures are there
    assert notebook.read_plot_file(run / "plots" / "loss.png") is None
    assert notebook.read_plot_file(run / "plots" / "surface.png", limit=10) is None  # too big
    assert notebook.read_plot_file(run / "plots" / "surface.png")[:4] == b"\x89PNG"


def test_a_result_json_that_is_a_link_or_huge_is_left_out(tmp_path: Path, run_cli) -> None:
    """A report of a shared folder read a result.json that was a link to any file its
    reader may read, and a sparse 2 GB one took 4 GB of memory: both are named, unread."""
    import mlplab

    good = mlplab.train(data="xor", epoch=5, log_every=0, plots="none", verbose=False,
                        log_path=str(tmp_path / "runs"), exp_name="t1")  # fmt: skip
    linked, huge = (good.run_dir.parent / f"t1-{c * 6}" for c in "ab")
    for bad in (linked, huge):
        shutil.copytree(good.run_dir, bad)
    target = tmp_path / "elsewhere.json"
    (linked / "result.json").rename(target)
    (linked / "result.json").symlink_to(target)
    if os.geteuid() != 0:
        pytest.skip("a file of another owner takes root to make")
    os.chown(target, 65534, 65534)  # nobody's: the link's owner is not the file's
    # A link to its owner's own file is read: DVC's and git-annex's runs are such links.
    annexed = good.run_dir.parent / "t1-cccccc"
    shutil.copytree(good.run_dir, annexed)
    (annexed / "result.json").rename(tmp_path / "cache.json")
    (annexed / "result.json").symlink_to(tmp_path / "cache.json")
    with open(huge / "result.json", "r+b") as f:  # sparse: no disk taken
        f.truncate(100 * 2**20)
    proc = run_cli("report", tmp_path / "runs", "-q")
    assert proc.returncode == 0, proc.stderr
    assert f"{linked / 'result.json'}: a link to another owner's file, not read" in proc.stderr
    assert f"{huge / 'result.json'}: 100 MB, too large for a run's record" in proc.stderr
    assert "left out 2 result.json files" in proc.stderr
    runs = (tmp_path / "runs" / "results.csv").read_text()
    assert good.run_dir.name in runs and linked.name not in runs and huge.name not in runs
    assert annexed.name in runs


def test_a_link_repointed_after_its_check_is_not_read(tmp_path: Path, monkeypatch) -> None:
    """The link's owner was checked against its file's, then the link opened: pointed
    elsewhere in between (a race its owner can run), it was read as the file it led to
    then. The opened file's owner is checked against the link's."""
    import mlplab.reports.collect as collect

    good = mlplab.train(data="xor", epoch=5, log_every=0, plots="none", verbose=False,
                        log_path=str(tmp_path / "runs"), exp_name="t1")  # fmt: skip
    (good.run_dir / "result.json").rename(tmp_path / "theirs.json")
    (good.run_dir / "result.json").symlink_to(tmp_path / "theirs.json")
    mine = os.stat(tmp_path / "theirs.json").st_uid
    # As checked: a link of another owner's, to that owner's file; opened: this one's.
    monkeypatch.setattr(collect, "_link_owner", lambda file: mine + 1)
    skipped: list = []
    assert collect._read(good.run_dir / "result.json", skipped) is None
    assert "a link to another owner's file, not read" in skipped[0].reason
    monkeypatch.undo()
    assert collect._read(good.run_dir / "result.json", [])["status"] == "finished"


def test_an_estimators_record_says_how_its_split_was_drawn_and_weighted(tmp_path: Path) -> None:
    """An estimator's held-out rows are drawn by random_state and stratified, and its
    class_weight weighs the rows: its record said data_seed 0, stratify false and
    class_weight none whatever was fitted, and the report that every seed of a config
    trains on the same split."""
    import warnings

    from mlplab.restore import record_config
    from mlplab.sklearn import MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=120) > 0.8, "b", "a")
    log = tmp_path / "runs"
    records = {}
    for rs, cw in ((0, None), (1, None), (0, "balanced"), (1, "balanced"), (0, {"b": 5})):
        est = MLPClassifier(
            hid_dim=4, epoch=2, random_state=rs, validation_fraction=0.25, class_weight=cw,
            log_path=str(log), exp_name="est",
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        records[rs, str(cw)] = json.loads((est.run_dir_ / "result.json").read_text())
        # config.yaml trains as the fit did: the weights are in its rows, not its settings.
        assert record_config(est.run_dir_, rows=False).class_weight == "none"
    plain = records[0, "None"]
    assert plain["data_seed"] is None and plain["stratify"] is True
    assert plain["split_drawn_by"] == "seed" and plain["class_weight"] == "none"
    assert records[1, "balanced"]["class_weight"] == "balanced"
    dict_weights = records[0, str({"b": 5})]
    assert dict_weights["class_weight"] == "per class"
    assert dict_weights["class_weights"] == {"b": 5.0}
    est = MLPClassifier(
        hid_dim=4, epoch=2, validation_fraction=0, log_path=str(log), exp_name="all"
    )
    est.fit(X, y)
    whole = json.loads((est.run_dir_ / "result.json").read_text())
    assert whole["data_seed"] is None and "split_drawn_by" not in whole
    rep = report(log, exp_name="est", verbose=False, figures=False)
    assert "class_weight" in rep.variables
    assert set(rep.summary["class_weight"]) == {"none", "balanced", "per class (b 5)"}
    # One dataset, weighted three ways: its class weights made each a "data" of its own,
    # and the report said "data is swept" over the same arrays.
    assert "data" not in rep.variables and rep.runs["data"].nunique() == 1
    assert plain["data"] != records[0, "balanced"]["data"]  # still three runs' identities
    page = html.unescape(rep.html_path.read_text())
    assert "data is swept" not in page
    assert "every seed of a config trains on the same split" not in page
    assert (
        "random_state) draws the initial weights, dropout, the data order and the held-out" in page
    )


def test_the_datas_notes_are_kept_in_the_record_and_said_by_the_report(tmp_path: Path) -> None:
    """Val and test rows that repeat training rows were said once, at train time: not in
    result.json, a kept Result's notes, `mlplab report` or report.html."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x1": rng.normal(size=100), "x2": rng.normal(size=100)})
    df["y"] = (df["x1"] > 0).astype(int)
    df = pd.concat([df, df], ignore_index=True).sample(frac=1, random_state=0)
    path = tmp_path / "dup.csv"
    df.to_csv(path, index=False)
    common = {"data": str(path), "target": "y", "log_path": str(tmp_path / "runs"), **TINY}
    run = mlplab.train(**common, exp_name="dp")
    repeats = [n for n in run.record["notes"] if "repeat a training row" in n]
    assert len(repeats) == 1
    on_disk = json.loads((run.run_dir / "result.json").read_text())
    assert on_disk["notes"] == run.record["notes"]
    kept = mlplab.train(**common, exp_name="dp")
    assert kept.kept and any("repeat a training row" in n for n in kept.notes)
    mlplab.train(**common, exp_name="dp", seed=1)
    rep = report(tmp_path / "runs", exp_name="dp", verbose=False, figures=False)
    page = html.unescape(rep.html_path.read_text())
    said = [line for line in page.split("<li>") if "repeat a training row" in line]
    assert len(said) == 1, said  # once for the kind, naming both runs
    assert f"(2 run(s): {run.record['run_id']}, " in said[0] or "(2 run(s): " in said[0]


def test_a_report_without_figures_writes_the_same_tables(tmp_path, run_cli):
    """On a sweep of many configs the figures take most of a report's time, and there was
    no way to ask for the tables alone."""
    log = tmp_path / "runs"
    for lr in (0.1, 0.5):
        for seed in (0, 1):
            mlplab.train(data="xor", lr=lr, seed=seed, log_path=str(log), **TINY)
    mlplab.report(log, out=tmp_path / "drawn", verbose=False)
    bare = mlplab.report(log, out=tmp_path / "bare", verbose=False, figures=False)
    for name in ("results.csv", "summary.csv"):
        assert (tmp_path / "bare" / name).read_text() == (tmp_path / "drawn" / name).read_text()
    assert "<img" in (tmp_path / "drawn" / "report.html").read_text()
    page = bare.html_path.read_text()
    assert "<img" not in page and "<table" in page
    proc = run_cli("report", log, "--out", tmp_path / "cli", "--no_figures", "-q")
    assert proc.returncode == 0, proc.stderr
    assert "<img" not in (tmp_path / "cli" / "report.html").read_text()
    with pytest.raises(mlplab.errors.ConfigError, match="figures"):
        mlplab.report(log, out=tmp_path / "x", figures="no")
    # The best run's own pictures, drawn when it trained, stay on the page.
    drawn_run = tmp_path / "drawn_runs"
    mlplab.train(data="xor", log_path=str(drawn_run), **{**TINY, "plots": "png"})
    page = mlplab.report(drawn_run, verbose=False, figures=False).html_path.read_text()
    assert page.count("<img") == len(list(drawn_run.glob("exp/*/plots/*.png")))
