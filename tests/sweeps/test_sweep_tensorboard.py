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
        # What a run prints and keeps is no column: five of them said nothing of results.
        assert not {"plots", "log_every", "log_val", "save_every", "snapshot_every"} & set(hp)


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


def test_a_running_runs_settings_are_in_its_file_and_seeds_share_a_group(tmp_path: Path) -> None:
    """The HParams tab listed a run only once it had ended (its settings were written at
    the end), and each seed of a config as a group of its own, so its table could not
    average a config's seeds as the report does."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    import mlplab

    def session(run_dir: Path) -> dict[str, plugin_data_pb2.HParamsPluginData]:
        acc = EventAccumulator(str(run_dir))
        acc.Reload()
        return {
            tag.rsplit("/", 1)[1]: plugin_data_pb2.HParamsPluginData.FromString(content)
            for tag, content in acc.PluginTagToContent("hparams").items()
        }

    from mlplab.assemble import as_config
    from mlplab.runs.record import run_dir_of

    settings = {"data": "moons", "n_samples": 100, "epoch": 5, "save_every": 1}
    settings |= {"log_every": 0, "plots": "none", "log_path": str(tmp_path / "one")}
    seen: list[dict] = []

    def mid_run(event) -> None:  # after the run writer's checkpoint of epoch 2 (a flush)
        if type(event).__name__ == "Validate" and event.epoch == 3:
            seen.append(session(run_dir_of(as_config(settings))))

    run = mlplab.train(**settings, verbose=False, subscribers=[mid_run])
    assert seen and set(seen[0]) == {"session_start_info"}, seen
    assert seen[0]["session_start_info"].session_start_info.hparams["epoch"].number_value == 5
    assert set(session(run.run_dir)) == {"session_start_info", "session_end_info"}

    result = sweep(
        data="moons", n_samples=100, lr=[0.01, 0.1], seed=[0, 1], epoch=2, log_every=0,
        plots="none", log_path=str(tmp_path / "grid"), workers=1, report=False, verbose=False,
    )  # fmt: skip
    groups: dict[float, set[str]] = {}
    for run_dir in result.run_dirs:
        start = session(run_dir)["session_start_info"].session_start_info
        groups.setdefault(start.hparams["lr"].number_value, set()).add(start.group_name)
    assert all(len(names) == 1 for names in groups.values()), groups  # seeds: one group
    assert len(set.union(*groups.values())) == 2, groups  # each lr its own
    assert "seed" not in start.hparams  # a group's row would show one seed of several


def test_a_run_stopped_between_shown_points_ends_its_curves_where_it_stopped(
    tmp_path: Path,
) -> None:
    """Thinned to ~1000 points of 4000 planned epochs, a run that patience stopped at
    epoch 209 ended its val/loss curve at 208, and HParams linked that point's value."""
    import mlplab

    run = mlplab.train(
        data="moons", n_samples=200, noise=0.5, epoch=4000, optim="adam", lr=0.005,
        patience=150, log_every=0, plots="none", log_path=str(tmp_path), verbose=False,
    )  # fmt: skip
    record = read_result(run.run_dir)
    stopped = record["epochs_run"]
    assert record["stopped_early"] and stopped < 4000
    acc = EventAccumulator(str(run.run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    curve = acc.Scalars("val/loss")
    assert len(curve) < stopped  # thinned
    assert curve[-1].step == stopped, [e.step for e in curve[-3:]]
    assert abs(curve[-1].value - record["val_losses"][-1]) < 1e-6
    assert acc.Scalars("hparam/val_loss")[0].step == stopped
