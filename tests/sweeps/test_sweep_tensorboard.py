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
        assert "_hparams_/session_end_info" in hparams
        record = read_result(run_dir)
        for metric in ("train_loss", "val_acc", "test_acc", "test_loss"):
            events = acc.Scalars(f"hparam/{metric}")
            assert len(events) == 1
            assert abs(events[0].value - record[metric]) < 1e-6
            # At the epoch the run ended, beside its curves' last points, not at 0.
            assert events[0].step == record["epochs_run"] == acc.Scalars("val/loss")[-1].step


def test_hparams_leave_out_the_settings_a_run_does_not_use(tmp_path: Path) -> None:
    """hid_dim 100 beside hid_dims 8-4 read as a real width in the HParams table (and mm
    beside adam); the report leaves such settings blank."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    result = sweep(
        data="xor", hid_dims=["8-4", "16"], optim=["adam", "sgd"], mm=0.9, epoch=5,
        log_every=0, plots="none", log_path=str(tmp_path), workers=1, report=False,
        verbose=False,
    )  # fmt: skip
    shown = {}
    for run_dir in result.run_dirs:
        acc = EventAccumulator(str(run_dir))
        acc.Reload()
        data = plugin_data_pb2.HParamsPluginData.FromString(
            acc.PluginTagToContent("hparams")["_hparams_/session_start_info"]
        )
        shown[read_result(run_dir)["run_id"]] = dict(data.session_start_info.hparams)
    assert len(shown) == 4
    for run_id, hp in shown.items():
        assert "hid_dim" not in hp and "hid_dims" in hp and "lr" in hp
        assert ("mm" in hp) == (hp["optim"].string_value == "sgd")
        # The engine that trained, not the `auto` given: a column that told runs apart.
        (run_dir,) = [d for d in result.run_dirs if d.name == run_id]
        assert hp["engine"].string_value == read_result(run_dir)["engine_used"] == "numpy"


def test_the_hparams_table_has_every_runs_settings_and_metrics(tmp_path: Path) -> None:
    """TensorBoard keeps the first experiment summary it finds: when each run wrote one,
    a sweep over a regression and a classification data set showed one task's columns.
    Read back through TensorBoard's own HParams backend."""
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import backend_context

    sweep(
        data=["sine", "moons"], hid_dim=[3], optim=["adam", "sgd"], epoch=3, log_every=0,
        plots="none", log_path=str(tmp_path), workers=1, report=False, verbose=False,
    )  # fmt: skip
    mux = plugin_event_multiplexer.EventMultiplexer()
    mux.AddRunsFromDirectory(str(tmp_path))
    mux.Reload()
    provider = data_provider.MultiplexerDataProvider(mux, str(tmp_path))
    backend = backend_context.Context(
        base_plugin.TBContext(logdir=str(tmp_path), multiplexer=mux, data_provider=provider)
    )
    request = context.RequestContext()
    experiment = backend.experiment_from_metadata(
        request, "", True, backend.hparams_metadata(request, ""),
        backend.hparams_from_data_provider(request, "", None),
    )  # fmt: skip
    hparams = {h.name for h in experiment.hparam_infos}
    metrics = {m.name.tag for m in experiment.metric_infos}
    assert {"data", "optim", "lr", "mm"} <= hparams  # mm: the sgd runs' only
    assert {"hparam/test_acc", "hparam/test_r2", "hparam/test_loss"} <= metrics
