"""The pictures of a run without a test split (split 0.9 0.1 0): those that drew the test
split draw train and val, and their titles give the validation metric, not "n/a"."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pytest

import mlplab
from mlplab.plots.run_plots import run_figures


def _texts(fig) -> str:
    """Every title, legend entry and axis label of ``fig``, one string."""
    parts = [fig._suptitle.get_text()] if fig._suptitle is not None else []
    for ax in fig.axes:
        parts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        if ax.get_legend() is not None:
            parts += [t.get_text() for t in ax.get_legend().get_texts()]
    for legend in fig.legends:
        parts += [t.get_text() for t in legend.get_texts()]
    return " | ".join(parts)


@pytest.mark.parametrize(
    ("data", "stems", "said"),
    [
        ("moons", {"surface", "confusion"}, "val acc "),
        ("sinlog", {"surface", "regression_3d", "pred_vs_true", "residuals"}, "val MAE "),
        ("sine", {"fit", "pred_vs_true", "residuals"}, "val MAE "),
    ],
)
def test_pictures_of_a_run_without_test_rows_draw_train_and_val(tmp_path, data, stems, said):
    r = mlplab.train(data=data, split=[0.9, 0.1, 0], epoch=5, plots="png", verbose=False,
                     log_path=str(tmp_path))  # fmt: skip
    assert r.record["n_test"] == 0
    written = {p.stem for p in Path(r.run_dir, "plots").iterdir()}
    assert stems <= written and not r.record.get("plots_failed")
    figures = run_figures(r.record, r.dataset, r.model_outputs, r.spec)
    for stem in sorted(stems):
        fig = figures[stem]()
        text = _texts(fig)
        plt.close(fig)
        assert "test" not in text and "n/a" not in text, (stem, text)
        if stem in ("surface", "confusion", "fit", "residuals"):
            assert said in text, (stem, text)
        if stem == "residuals":  # the validation rows, as the other pictures score
            assert "residuals (val)" in text, text


def test_the_best_model_of_a_run_without_test_rows_is_redrawn(tmp_path, run_cli):
    r = mlplab.train(data="moons", split=[0.8, 0.2], epoch=5, plots="none", verbose=False,
                     log_path=str(tmp_path))  # fmt: skip
    proc = run_cli("plot", r.run_dir, "--checkpoint", "best")
    assert proc.returncode == 0 and "failed" not in proc.stderr, proc.stderr
    assert {p.stem for p in Path(r.run_dir, "plots-best").iterdir()} >= {"loss", "surface"}
