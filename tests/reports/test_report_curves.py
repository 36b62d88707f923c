"""The report's curves: every curve at its validation epochs (older records: per epoch)."""

from __future__ import annotations

import pandas as pd

from mlplab.reports.plots import curves_long


def _runs(train_losses: list[float]) -> pd.DataFrame:
    row = {
        "lr": 0.1,
        "train_losses": train_losses,
        "val_losses": [0.6, 0.3],
        "val_epochs": [100, 200],
        "train_accs": [0.5, 1.0],
        "val_accs": [0.5, 1.0],
    }
    return pd.DataFrame([row])


def test_train_loss_sampled_at_validations_is_drawn_at_val_epochs() -> None:
    long = curves_long(_runs([0.7, 0.2]), "loss", ["lr"])
    for split in ("train", "val"):
        assert long[long["split"] == split]["epoch"].tolist() == [100, 200]


def test_train_loss_of_an_older_record_is_per_epoch() -> None:
    long = curves_long(_runs([0.7, 0.5, 0.3]), "loss", ["lr"])
    assert long[long["split"] == "train"]["epoch"].tolist() == [1, 2, 3]
    assert long[long["split"] == "train"]["value"].tolist() == [0.7, 0.5, 0.3]
    metric = curves_long(_runs([0.7, 0.5, 0.3]), "acc", ["lr"])
    assert metric[metric["split"] == "train"]["epoch"].tolist() == [100, 200]
