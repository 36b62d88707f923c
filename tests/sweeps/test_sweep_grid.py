"""Flags -> configs: grid product, random search, validation and grouping (no training)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from mlplab.errors import ConfigError
from mlplab.sweeps.grid import build_spec, expand, parse_distribution, plan_groups


def configs_of(settings: dict, **kw):
    return expand(build_spec({}, settings, **kw))


def test_grid_is_the_product_of_every_multi_valued_flag() -> None:
    # What the CLI passes: every scalar flag as a list of strings.
    cfgs = configs_of(
        {
            "data": ["ring"],
            "n_layer": ["1", "2", "3"],
            "hid_dim": ["50", "100"],
            "seed": ["0", "1", "2"],
        }
    )
    assert len(cfgs) == 18
    combos = {(c.n_layer, c.hid_dim, c.seed) for c in cfgs}
    assert combos == {(n, h, s) for n in (1, 2, 3) for h in (50, 100) for s in (0, 1, 2)}
    assert {c.data for c in cfgs} == {"ring"}
    assert len({c.run_hash() for c in cfgs}) == 18


def test_grid_small_counts_and_axis_order() -> None:
    spec = build_spec(
        {}, {"data": ["xor"], "hid_dim": ["4", "8"], "n_layer": ["1", "2"], "seed": ["0", "1"]}
    )
    assert list(spec.axes) == ["hid_dim", "n_layer", "seed"]
    assert spec.base == {"data": "xor"}
    cfgs = expand(spec)
    assert len(cfgs) == 8
    assert len(spec.run_ids) == 8 and all(r.startswith("exp-") for r in spec.run_ids)


def test_list_settings_are_never_axes_and_yaml_lists_are() -> None:
    # `split` takes a list as its one value; a YAML list for a scalar setting is an axis.
    spec = build_spec({"lr": [0.1, 1.0], "split": [0.8, 0.1, 0.1]}, {"data": ["moons"]})
    assert list(spec.axes) == ["lr"]
    cfgs = expand(spec)
    assert len(cfgs) == 2
    assert all(c.split == [0.8, 0.1, 0.1] for c in cfgs)


def test_duplicate_configs_collapse_to_one_run() -> None:
    assert len(configs_of({"act": ["relu", "RELU"], "data": ["xor"]})) == 1


def test_a_bad_axis_value_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="'lr'"):
        configs_of({"lr": ["0.1", "-1"]})
    with pytest.raises(ConfigError, match=r"'act'.*not one of"):
        configs_of({"act": ["relu", "nope"]})
    with pytest.raises(ConfigError, match="'exp_name'"):
        configs_of({"exp_name": ["a", "b"]})


def test_comma_separated_values_say_how_a_sweep_takes_several() -> None:
    """`--lr 0.1,0.2` reaches the sweep as one value; the line shows the spaced form."""
    with pytest.raises(ConfigError, match=r"'lr'.*separated by spaces: --lr 0\.1 0\.2$"):
        configs_of({"lr": "0.1,0.2"})
    with pytest.raises(ConfigError, match=r"not one of .*separated by spaces: --act relu tanh$"):
        configs_of({"act": "relu, tanh"})
    # hid_dims [16,16] is more likely one model of two layers; a spaced repeat is refused.
    with pytest.raises(ConfigError, match=r"takes one model of 2 layers as --hid_dims 16-16$"):
        configs_of({"hid_dims": "[16,16]"})
    with pytest.raises(ConfigError, match=r"16-8, or several values .*: --hid_dims 16 8$"):
        configs_of({"hid_dims": "16,8"})


def test_random_search_samples_in_range_and_is_reproducible() -> None:
    settings = {
        "data": ["moons"],
        "lr": ["loguniform:1e-4:1e-1"],
        "hid_dim": ["int:2:8"],
        "dp_rate": ["uniform:0:0.5"],
        "act": ["choice:relu:tanh"],
        "n_layer": ["1", "2"],  # plain values are sampled as a choice
    }
    cfgs = configs_of(settings, search="random", trials=25)
    assert len(cfgs) == 25
    assert all(1e-4 <= c.lr <= 1e-1 for c in cfgs)
    assert all(2 <= c.hid_dim <= 8 for c in cfgs)
    assert all(0 <= c.dp_rate <= 0.5 for c in cfgs)
    assert {c.act for c in cfgs} == {"relu", "tanh"}
    assert {c.n_layer for c in cfgs} == {1, 2}
    # log-uniform: about as many samples per decade
    decades = {math.floor(math.log10(c.lr)) for c in cfgs}
    assert decades == {-4, -3, -2}
    again = configs_of(settings, search="random", trials=25)
    assert [c.run_hash() for c in cfgs] == [c.run_hash() for c in again]
    other = configs_of({**settings, "seed": ["5"]}, search="random", trials=25)
    assert [c.lr for c in other] != [c.lr for c in cfgs]


def test_a_random_search_in_another_order_is_another_sweep() -> None:
    """The same distributions written in another order drew other configs into the same
    sweep-HASH.yaml, whose run list then named only the second sweep's runs."""
    lr, width = ["loguniform:1e-3:1e-1"], ["choice:4:8:16"]
    first = build_spec({}, {"data": ["moons"], "lr": lr, "hid_dim": width}, "random", 6)
    second = build_spec({}, {"data": ["moons"], "hid_dim": width, "lr": lr}, "random", 6)
    drawn = [{(c.lr, c.hid_dim) for c in expand(spec)} for spec in (first, second)]
    assert drawn[0] != drawn[1]  # drawn in the order written
    assert first.spec_hash() != second.spec_hash()
    again = build_spec({}, {"data": ["moons"], "lr": lr, "hid_dim": width}, "random", 6)
    assert again.spec_hash() == first.spec_hash()
    # A grid's configs are the same in any order: one sweep.
    grid = [build_spec({}, {"data": ["moons"], **axes}, "grid") for axes in
            ({"lr": ["0.1", "0.01"], "hid_dim": ["4", "8"]},
             {"hid_dim": ["4", "8"], "lr": ["0.1", "0.01"]})]  # fmt: skip
    assert grid[0].spec_hash() == grid[1].spec_hash()


def test_random_search_draws_from_the_smallest_seed_and_says_when_a_folder_drew_others(
    tmp_path: Path, run_cli
) -> None:
    """The configs were drawn from the first --seed: `--seed 2 1 0`, or seeds given apart
    from the search's (`--seed 3 4` after `--seed 0 1 2`), drew other configs and added
    them to the experiment without a word."""
    settings = {"data": ["xor"], "lr": ["uniform:0.1:2"]}
    first = configs_of({**settings, "seed": ["0", "1"]}, search="random", trials=3)
    again = configs_of({**settings, "seed": ["1", "0", "2"]}, search="random", trials=3)
    assert {c.lr for c in again} == {c.lr for c in first}
    base = ["sweep", "--data", "xor", "--epoch", "2", "--lr", "uniform:0.1:2", "--search",
            "random", "--trials", "2", "--plots", "none", "--workers", "1", "--no_report",
            "--log_path", tmp_path]  # fmt: skip
    assert run_cli(*base, "--seed", "0", "1").returncode == 0
    more = run_cli(*base, "--seed", "2", "1", "0")
    assert "2 trained, 4 skipped" in more.stdout and "note: these" not in more.stdout
    apart = run_cli(*base, "--seed", "3", "4")
    assert apart.returncode == 0, apart.stderr
    assert "drawn from seed 3, the smallest --seed; the random search recorded in sweep-" in (
        apart.stdout
    )
    assert "drew its own from seed 0, so they are other configs" in apart.stdout


def test_random_search_seeds_are_replicates_of_every_sample() -> None:
    cfgs = configs_of(
        {"data": ["xor"], "lr": ["uniform:0.1:2"], "seed": ["0", "1", "2"]},
        search="random",
        trials=4,
    )
    assert len(cfgs) == 12
    by_lr: dict[float, set[int]] = {}
    for c in cfgs:
        by_lr.setdefault(c.lr, set()).add(c.seed)
    assert len(by_lr) == 4 and all(s == {0, 1, 2} for s in by_lr.values())


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("loguniform:0:1", "LOW > 0"),
        ("uniform:2:1", "LOW < HIGH"),
        ("int:1.5:3", "whole-number"),
        ("uniform:a:b", "two numbers"),
        ("choice:", "choice:A:B"),
        ("logunifrm:1e-4:1e-1", r"'logunifrm' is not a distribution \(did you mean loguniform\?\)"),
        # A distribution mlplab has not, of a number's setting: "'normal:0:1' is not a number".
        ("normal:0:1", r"'normal' is not a distribution; use one of loguniform, uniform"),
        # scipy's and Optuna's way of writing one: "'loguniform(1e-4, 1e-1)' is not a number".
        ("loguniform(1e-4, 1e-1)", r"written with colons, 'loguniform:1e-4:1e-1', not as a call"),
        ("choice(8,32)", r"written with colons, 'choice:8:32', not as a call"),
    ],
)
def test_bad_distributions_name_the_setting(text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=f"setting 'lr'.*{match}"):
        parse_distribution("lr", text)


def test_a_text_settings_value_with_a_colon_is_no_distribution() -> None:
    assert parse_distribution("device", "cuda:1") is None
    assert parse_distribution("data", "my:file.csv") is None
    assert parse_distribution("dtype", "float:32") is None  # a choice's, said by its check
    assert parse_distribution("exp_name", "uniform(2)") is None  # a name, as written
    with pytest.raises(ConfigError, match=r"written with colons, 'choice:8-8:16', not as a call"):
        parse_distribution("hid_dims", "choice(8-8, 16)")  # widths, which take choice:
    # Numbers' settings whose default is None or a list are numbers' too.
    for name in ("n_samples", "noise", "split"):
        with pytest.raises(ConfigError, match="'normal' is not a distribution"):
            parse_distribution(name, "normal:0:1")


def test_an_unknown_distribution_in_a_sweep_file_names_the_file(tmp_path) -> None:
    from mlplab.sweeps.grid import check_file_settings

    with pytest.raises(ConfigError, match=r"^c\.yaml: setting 'lr': 'normal:0:1': 'normal'"):
        check_file_settings("c.yaml", {"lr": "normal:0:1"}, set())


def test_distribution_bounds_are_validated_and_need_random_search() -> None:
    with pytest.raises(ConfigError, match="'lr'"):
        configs_of({"lr": ["uniform:-1:1"]}, search="random", trials=3)
    # The bound is named: "(got 0)" alone read as if the user had given lr 0.
    with pytest.raises(ConfigError, match=r"\(got 0\) at a bound of --lr uniform:0:0.1"):
        configs_of({"lr": ["uniform:0:0.1"]}, search="random", trials=3)
    # A choice has no bounds: its bad value is named among the choices.
    with pytest.raises(
        ConfigError, match=r"'reluu' is not one of .*, among --act choice:tanh:reluu$"
    ):
        configs_of({"act": ["choice:tanh:reluu"]}, search="random", trials=2)
    with pytest.raises(ConfigError, match="--search random"):
        configs_of({"lr": ["loguniform:1e-4:1e-1"]})
    with pytest.raises(ConfigError, match="--trials"):
        configs_of({"lr": ["loguniform:1e-4:1e-1"]}, search="random")
    assert parse_distribution("device", "cuda:1") is None  # a plain value


def test_groups_share_a_shape_and_respect_size() -> None:
    cfgs = configs_of(
        {"data": ["xor"], "hid_dim": ["2", "4"], "seed": ["0", "1", "2"], "lr": ["0.1", "1"]}
    )
    groups = plan_groups(cfgs, workers=2)
    assert sum(len(g) for g in groups) == 12
    for g in groups:  # one network shape per group; seeds and lr vary inside
        assert len({c.hid_dim for c in g}) == 1
    assert all(len(g) == 1 for g in plan_groups(cfgs, workers=2, no_batch=True))
    assert max(len(g) for g in plan_groups(cfgs, workers=1, group_size=4)) == 4


def test_every_setting_a_stack_holds_per_model_shares_a_group() -> None:
    """The README: configs that differ only in seed, lr, mm, l2_coef, dp_rate, init or the
    lr schedule train as one stack. dp_rate and lr_schedule axes made groups of their own."""
    cfgs = configs_of(
        {"data": ["moons"], "n_layer": ["2"], "dp_rate": ["0", "0.2"], "lr": ["0.1", "0.5"],
         "lr_schedule": ["none", "cosine"], "mm": ["0", "0.9"], "init": ["default", "xavier"]}
    )  # fmt: skip
    assert [len(g) for g in plan_groups(cfgs, workers=1, group_size=64)] == [32]
    other = configs_of({"data": ["moons"], "n_layer": ["1", "2"]})
    assert [len(g) for g in plan_groups(other, workers=1, group_size=64)] == [1, 1]


def test_group_size_follows_the_stack_cost() -> None:
    # Tiny models: all configs of a shape in one stack per worker (their steps cost the
    # same for 8 or 128 configs). Large ones: small stacks, so no group holds the tail.
    tiny = configs_of({"data": ["xor"], "hid_dim": ["2"], "seed": [str(s) for s in range(256)]})
    assert [len(g) for g in plan_groups(tiny, workers=2, train_rows=lambda c: 4)] == [128, 128]
    assert [len(g) for g in plan_groups(tiny, workers=1, train_rows=lambda c: 4)] == [256]
    big = configs_of({"data": ["sinlog"], "hid_dim": ["200"], "seed": [str(s) for s in range(16)]})
    sizes = [len(g) for g in plan_groups(big, workers=2, train_rows=lambda c: 1600)]
    assert sum(sizes) == 16 and max(sizes) == (1 << 21) // (1600 * 200)


def test_a_prune_rules_sweep_keeps_a_shape_in_one_stack_as_memory_allows() -> None:
    """A prune rule compares a stack's rows: the ring lab's 8,000-row stacks of one (cut
    for speed) would give it nothing to compare, and workers must not cut it either."""
    from mlplab.data.cost import memory_budget

    ring = configs_of({"data": ["ring"], "hid_dim": ["200"], "lr": [str(v) for v in range(1, 9)]})
    assert [len(g) for g in plan_groups(ring, workers=2, train_rows=lambda c: 8000)] == [1] * 8
    kept = plan_groups(ring, workers=2, train_rows=lambda c: 8000, whole_shapes=True)
    assert [len(g) for g in kept] == [8]
    # Past memory, a shape is cut: a step of a million rows through 200 units, per model.
    per_model = 1_000_000 * 200 * 4 * 2
    cap = max(1, memory_budget() // 4 // per_model)
    huge = plan_groups(ring, workers=1, train_rows=lambda c: 1_000_000, whole_shapes=True)
    assert max(len(g) for g in huge) == min(8, cap) and sum(len(g) for g in huge) == 8


def test_a_value_with_a_colon_is_a_value_unless_it_is_a_misspelt_distribution() -> None:
    assert parse_distribution("device", "cuda:1") is None


def test_ranges_and_arrays_are_lists_of_values_in_python() -> None:
    """mlplab.sweep(seed=range(5)) said 'range(0, 5) is not a whole number'."""
    import numpy as np

    cfgs = configs_of({"data": "xor", "seed": range(3), "lr": np.array([0.1, 0.5])})
    assert sorted((c.seed, c.lr) for c in cfgs) == [(s, lr) for s in range(3) for lr in (0.1, 0.5)]


def test_numpy_scalars_are_the_numbers_they_hold(tmp_path) -> None:
    """mlplab.sweep(lr=np.float64(0.1)) ended in a YAML RepresenterError (the spec file)."""
    import numpy as np
    import yaml

    import mlplab

    done = mlplab.sweep(
        data="xor", lr=np.float64(0.1), hid_dim=[np.int64(2), 4], seed=np.arange(2),
        epoch=2, log_path=str(tmp_path), verbose=False, plots="none",
    )  # fmt: skip
    assert done.exit_code == 0 and len(done.configs) == 4
    spec = yaml.safe_load(done.spec_path.read_text())
    assert spec["base"]["lr"] == 0.1 and spec["axes"]["hid_dim"] == [2, 4]
    # Paths are settings too, as in train(): the spec holds their text. Not log_path, where
    # the spec lies: a sweep moved and run again from its new place is the same sweep.
    (tmp_path / "t.csv").write_text("a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(12)))
    again = mlplab.sweep(data=tmp_path / "t.csv", hid_dim=[2, 4], epoch=2, log_path=tmp_path,
                         verbose=False, plots="none")  # fmt: skip
    base = yaml.safe_load(again.spec_path.read_text())["base"]
    assert again.exit_code == 0 and base["data"] == str(tmp_path / "t.csv")
    assert "log_path" not in base
    moved = tmp_path / "moved"
    moved.mkdir()
    (tmp_path / "exp").rename(moved / "exp")
    there = mlplab.sweep(data=tmp_path / "t.csv", hid_dim=[2, 4], epoch=2, log_path=moved,
                         verbose=False, plots="none")  # fmt: skip
    assert there.spec_path == moved / "exp" / again.spec_path.name
    assert sorted(p.name for p in (moved / "exp").glob("sweep-*.yaml")) == sorted(
        {done.spec_path.name, again.spec_path.name}
    )
    # Printed, a sweep and its report are one line each, not every table they hold.
    assert repr(done) == f"<SweepResult {done.summary()}; {tmp_path / 'exp'}>"
    assert repr(done.report).startswith("<Report 4 runs in 1 section, ranked by val_acc;")


@pytest.mark.parametrize("name", ["plots", "log_every", "device", "test_batch_size"])
def test_an_axis_over_a_setting_outside_the_runs_name_is_refused(name: str) -> None:
    """`--plots png none` made one run of the first value, without a word."""
    values = {"plots": ["png", "none"], "log_every": ["10", "20"], "device": ["cpu", "auto"]}
    with pytest.raises(ConfigError, match=f"setting '{name}': it does not change what a run"):
        configs_of({"data": ["xor"], name: values.get(name, ["0", "64"])})
    assert len(configs_of({"data": ["xor"], "use_xavier": ["true", "false"]})) == 2
    # A distribution samples several values as a list does: refused in random search too.
    with pytest.raises(ConfigError, match="setting 'plots': it does not change what a run"):
        configs_of({"data": ["xor"], "plots": ["choice:png:none"]}, search="random", trials=2)


def test_a_hid_dims_axis_that_repeats_a_value_says_how_to_write_one_deep_model() -> None:
    """sweep(hid_dims=[4, 4]) trained one run of one 4-unit layer, without a word, where
    train(hid_dims=[4, 4]) builds two layers of 4."""
    with pytest.raises(
        ConfigError, match=r"for one model of 2 layers give '4-4' \(--hid_dims 4-4\)"
    ):
        configs_of({"data": "xor", "hid_dims": [4, 4]})
    # Repeated deep models: joining them would make another model, so the line does not.
    with pytest.raises(ConfigError, match=r"\(one model per value\); give each model once$"):
        configs_of({"data": "xor", "hid_dims": ["16-16", "16-16"]})
    assert [c.hid_dims for c in configs_of({"data": "xor", "hid_dims": [4, 8]})] == ["4", "8"]


def test_a_sweep_option_in_its_yaml_file_is_named_as_an_option(run_cli, tmp_path) -> None:
    """`workers: 2` in a sweep file was an unknown setting, with `mlplab train --help`.
    (`search` and `trials` a file may keep: tests/sweeps/test_sweep_run.py.)"""
    (tmp_path / "sweep.yaml").write_text("data: xor\nworkers: 2\nlr: [0.1, 0.5]\n")
    proc = run_cli("sweep", "--config", tmp_path / "sweep.yaml", "--log_path", tmp_path / "runs")
    assert proc.returncode == 2 and not (tmp_path / "runs").exists()
    assert proc.stderr.strip().endswith(  # named with the file (it named none)
        "sweep.yaml: 'workers' is an option of `mlplab sweep`, not a setting a file holds: give it as a "
        "flag (--workers), or as an argument of mlplab.sweep()"
    )


@pytest.mark.parametrize("name", ["split", "target"])
def test_a_list_setting_given_several_lists_is_named_as_no_axis(tmp_path, name) -> None:
    """split=[[0.6, 0.2, 0.2], [0.8, 0.1, 0.1]] said '[0.6, 0.2, 0.2] is not a number;
    several values make a sweep', in a sweep."""
    from mlplab.sweeps.api import sweep

    value = [[0.6, 0.2, 0.2], [0.8, 0.1, 0.1]] if name == "split" else [["a"], ["b"]]
    with pytest.raises(
        ConfigError, match=f"setting '{name}': its one value is a list, so it is no axis"
    ):
        sweep(data="moons", epoch=2, log_path=str(tmp_path), verbose=False, **{name: value})
    assert not any(tmp_path.iterdir())


def test_a_list_search_takes_its_configs_row_by_row() -> None:
    """A search that proposes its own configs (a TPE batch of lr and width together) had
    only the grid, whose product trains pairs it never proposed."""
    cfgs = configs_of(
        {"data": ["ring"], "lr": ["0.1", "0.01", "0.1"], "hid_dim": ["8", "32", "32"],
         "act": ["tanh"], "seed": ["0", "1"]},
        search="list",
    )  # fmt: skip
    rows = sorted((c.lr, c.hid_dim, c.seed, c.act) for c in cfgs)
    expected = [(lr, h, s, "tanh") for lr, h in ((0.1, 8), (0.01, 32), (0.1, 32)) for s in (0, 1)]
    assert rows == sorted(expected)
    # A row proposed twice is one run; one setting's rows repeating a value is no error.
    again = configs_of(
        {"data": ["xor"], "lr": ["0.1", "0.1"], "hid_dims": ["4", "4"]}, search="list"
    )
    assert len(again) == 1
    with pytest.raises(ConfigError, match="must be as many; got lr 2, hid_dim 3"):
        configs_of({"lr": ["0.1", "0.2"], "hid_dim": ["2", "4", "8"]}, search="list")
    with pytest.raises(ConfigError, match="need --search random"):
        configs_of({"lr": ["loguniform:0.01:1", "0.1"]}, search="list")
    with pytest.raises(ConfigError, match="--trials applies only to --search random"):
        configs_of({"lr": ["0.1"]}, search="list", trials=3)
