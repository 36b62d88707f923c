"""Every run of a sweep leaves TensorBoard hparams and its final metrics."""

from __future__ import annotations

from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from mlplab.runs.record import read_result
from mlplab.sweeps.api import sweep


def test_each_run_has_hparams_and_final_metric_scalars(tmp_path: Path) -> None:
    result = sweep(
        data="xor", n_layer=1, hid_dim=[2, 3], act="tanh", lr=[0.5, 1.0], epoch=40,
        engine="numpy", log_every=0, plots="none", log_path=str(tmp_path),
        workers=1, report=False, verbose=False,
    )  # fmt: skip
    assert len(result.run_dirs) == 4
    for run_dir in result.run_dirs:
        acc = EventAccumulator(str(run_dir))
        acc.Reload()
        hparams = acc.PluginTagToContent("hparams")
        assert "_hparams_/session_start_info" in hparams
        assert "_hparams_/experiment" in hparams
        record = read_result(run_dir)
        for metric in ("train_loss", "val_acc", "test_acc", "test_loss"):
            events = acc.Scalars(f"hparam/{metric}")
            assert len(events) == 1
            assert abs(events[0].value - record[metric]) < 1e-6
