"""Flags -> configs: the grid (or random sample) of a sweep, validated before anything runs.

A sweep starts from *settings*: a mapping of setting name to one value or to a list of
values (the CLI gives every scalar flag as a list of strings). A scalar setting with more
than one value is an **axis**. The list-typed settings ``target`` and ``split`` take a
list as their one value and are never axes.

- ``search="grid"``: every combination of the axes (their product), in the order the
  axes were given.
- ``search="list"``: the configs one by one, as rows: the i-th value of every axis makes
  config i (a setting of one value applies to every row; ``seed`` values replicate each
  row, as in a random search). What a search that proposes its own configs (a TPE batch)
  hands to a sweep.
- ``search="random"``: ``trials`` samples. An axis value may be a distribution:
  ``loguniform:LOW:HIGH``, ``uniform:LOW:HIGH``, ``int:LOW:HIGH`` (both ends inclusive)
  or ``choice:A:B:C``; plain multiple values are sampled as a ``choice``. Several values of
  ``seed`` are *replicates*, not sampled: every sampled config runs once per seed.
  Sampling uses its own ``numpy.random.Generator`` seeded with the base config's
  ``seed`` (the first ``seed`` value when several are given), so the same command draws
  the same configs and a re-run skips the finished ones.

Every config is validated by :func:`mlplab.config.make_config` before any run starts;
one bad value raises :class:`mlplab.errors.ConfigError` naming the setting.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlplab.config import (
    HASH_EXCLUDED,
    INT64_END,
    Config,
    comma_hint,
    grouped_thousands,
    make_config,
    plain_value,
)
from mlplab.data.cost import check_cost
from mlplab.errors import ConfigError, short_repr
from mlplab.training.grouping import FREE_SETTINGS

DISTRIBUTIONS = ("loguniform", "uniform", "int", "choice")
SEARCHES = ("grid", "random", "list")
# A sweep writes into one folder, log_path/exp_name: these cannot vary within it.
NOT_AXES = frozenset({"log_path", "exp_name"})
# Settings in which the configs of one group (what a worker trains as one stack) may
# differ: those a stack holds per model (seed, lr, momentum, L2, dropout, init, the lr
# schedule), and those that do not change what is learned. Everything that shapes the
# data, the network or the loop must be equal.
GROUP_FREE = FREE_SETTINGS | HASH_EXCLUDED
# Upper bound of the automatic group size: a stack's hidden activations per step (rows
# per step x hidden units x configs). Below it, a lab-sized stack's step costs about the
# same for 8 or 256 configs (Python and NumPy call overhead), so bigger groups are nearly
# free; above it a stack is compute-bound, gains little from more configs, and a big
# group would only hold a sweep's tail.
STACK_ACTIVATIONS = 1 << 21
# The most configs one sweep may have. Every config is validated and kept in memory
# before the first run starts (about 1.2 KB and 25 us each), so a grid or --trials far
# beyond this would only exhaust the machine; no one waits for 100,000 runs in one go.
MAX_SWEEP_CONFIGS = 100_000


def is_list_setting(name: str) -> bool:
    """True for settings whose one value is itself a list (``target``, ``split``)."""
    return "list" in str(Config.model_fields[name].annotation)


@dataclass(frozen=True)
class Distribution:
    """A random-search axis: ``kind`` in DISTRIBUTIONS, with bounds or choices.

    ``low``/``high`` are floats (``int``: both inclusive); ``choices`` holds raw values.
    """

    kind: str
    low: float = 0.0
    high: float = 0.0
    choices: tuple[Any, ...] = ()

    def sample(self, rng: Any) -> Any:
        """One value drawn with ``rng`` (a ``numpy.random.Generator``)."""
        if self.kind == "loguniform":
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        if self.kind == "uniform":
            return float(rng.uniform(self.low, self.high))
        if self.kind == "int":
            return int(rng.integers(int(self.low), int(self.high), endpoint=True))
        return self.choices[int(rng.integers(len(self.choices)))]

    def edge_values(self) -> list[Any]:
        """Values that bound what :meth:`sample` can return (checked before running)."""
        if self.kind == "choice":
            return list(self.choices)
        if self.kind == "int":
            return [int(self.low), int(self.high)]
        return [self.low, self.high]

    def describe(self) -> str:
        if self.kind == "choice":
            return "choice:" + ":".join(str(c) for c in self.choices)
        return f"{self.kind}:{self.low:g}:{self.high:g}"


def parse_distribution(name: str, text: Any) -> Distribution | None:
    """Parse ``kind:a:b`` into a Distribution; None when ``text`` is a plain value."""
    called = re.fullmatch(r"\s*(\w+)\s*\((.*)\)\s*", text) if isinstance(text, str) else None
    # Text as written (a name, a path, a device); hid_dims' text is widths, which take
    # distributions (choice:8-8:16).
    free_text = name != "hid_dims" and "str" in repr(
        getattr(Config.model_fields.get(name), "annotation", "")
    )
    if called and called.group(1) in DISTRIBUTIONS and not free_text:
        # scipy's and Optuna's way, loguniform(1e-4, 1e-1), was told "is not a number"; a
        # name, a path or a device, exp_name: uniform(2), is text as written.
        written = ":".join([called.group(1), *(a.strip() for a in called.group(2).split(","))])
        raise ConfigError(
            f"setting '{name}': {short_repr(text)}: a distribution is written with colons, "
            f"{short_repr(written)}, not as a call"
        )
    if not isinstance(text, str) or ":" not in text:
        return None
    kind, _, rest = text.partition(":")
    if kind not in DISTRIBUTIONS:
        close = difflib.get_close_matches(kind, DISTRIBUTIONS, n=1, cutoff=0.75)
        field = Config.model_fields.get(name)
        kinds = str(field.annotation) if field is not None else ""
        # A number's setting (n_samples: int | None, split: list[float]), not text's.
        numeric = ("int" in kinds or "float" in kinds) and not (
            "str" in kinds or "Literal" in kinds
        )
        if close or (numeric and kind.isalpha()):
            # A misspelt or unknown distribution (`normal:0:1` of lr), not a value such as
            # the device cuda:1: a number's setting has no other use for `word:`.
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(
                f"setting '{name}': {short_repr(text)}: {kind!r} is not a distribution{hint}; "
                f"use one of {', '.join(DISTRIBUTIONS)} (loguniform:1e-4:1e-1, choice:8:32)"
            )
        return None
    parts = rest.split(":")
    if kind == "choice":
        if not rest or any(p == "" for p in parts):
            raise ConfigError(f"setting '{name}': {short_repr(text)} must be choice:A:B[:C...]")
        return Distribution("choice", choices=tuple(parts))
    shown = short_repr(text)
    try:
        low, high = (_number(p) for p in parts) if len(parts) == 2 else (None, None)
    except ValueError:
        low, high = None, None
    if low is None or high is None:
        raise ConfigError(f"setting '{name}': {shown} must be {kind}:LOW:HIGH with two numbers")
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ConfigError(f"setting '{name}': {shown} needs finite bounds")
    if not low < high:
        raise ConfigError(f"setting '{name}': {shown} needs LOW < HIGH")
    if kind == "loguniform" and low <= 0:
        raise ConfigError(f"setting '{name}': {shown} needs LOW > 0 for a log scale")
    if kind == "int":
        if grouped := next(filter(None, map(grouped_thousands, parts)), ""):
            raise ConfigError(f"setting '{name}': {shown}: {grouped}")  # int:1.000:3.000
        if low != int(low) or high != int(high):
            raise ConfigError(f"setting '{name}': {shown} needs whole-number bounds")
        if not (low >= -INT64_END and high < INT64_END):
            raise ConfigError(
                f"setting '{name}': {shown} needs bounds between -2**63 and 2**63 - 1"
            )
        return Distribution(kind, int(low), int(high))
    if not math.isfinite(high - low):
        raise ConfigError(f"setting '{name}': {shown} spans more than a float can hold")
    return Distribution(kind, low, high)


def _number(text: str) -> float:
    """``text`` as an int when it is one (exact past 2**53), else as a float."""
    text = text.strip()
    if len(text) > 400:  # int() refuses 4300 digits; no bound needs a tenth of that
        raise ValueError(text)
    try:
        return int(text)
    except ValueError:
        return float(text)


@dataclass
class SweepSpec:
    """What a sweep runs: the base settings, the axes and the search.

    Attributes
    ----------
    base : dict
        Settings shared by every config (YAML file plus single-valued flags).
    axes : dict
        Setting name -> list of values (grid), or -> list of values / one distribution
        string (random). Insertion order is the axis order (var1, var2, ... of the report).
    search : {'grid', 'random', 'list'}
    trials : int or None
        Number of random-search samples (random only).
    sample_seed : int
        Seed of the random-search sampler (the base ``seed``, or the smallest ``seed`` value).
    run_ids : list of str
        Filled in by :func:`expand`: the run ids of the configs, in order.
    """

    base: dict[str, Any]
    axes: dict[str, list[Any]]
    search: str = "grid"
    trials: int | None = None
    sample_seed: int = 0
    run_ids: list[str] = field(default_factory=list)

    def recorded_base(self) -> dict[str, Any]:
        """The base settings but ``log_path``: the spec lies in it, and a sweep moved to
        another log_path and run again is the same sweep (as its runs are the same runs)."""
        return {k: v for k, v in self.base.items() if k != "log_path"}

    def file_name(self) -> str:
        """The name of the sweep's record in its folder (:func:`mlplab.sweeps.api.write_spec`)."""
        return f"sweep-{self.spec_hash()}.yaml"

    def spec_hash(self) -> str:
        """6-hex-digit sha1 of the base, axes and search: the sweep's identity. A random
        search draws its axes in the order given, so that order, where it is not the
        names' own, is in it too: written in another order, the same distributions drew
        other configs into the same spec file, whose run list then named only the last."""
        identity: dict[str, Any] = {
            "base": self.recorded_base(),
            "axes": self.axes,
            "search": self.search,
            "trials": self.trials,
        }
        if self.search == "random" and list(self.axes) != sorted(self.axes):
            identity["order"] = list(self.axes)
        blob = json.dumps(identity, sort_keys=True, default=str)
        return hashlib.sha1(blob.encode()).hexdigest()[:6]

    def to_dict(self) -> dict[str, Any]:
        return {
            "search": self.search,
            "trials": self.trials,
            "sample_seed": self.sample_seed,
            "base": self.recorded_base(),
            "axes": self.axes,
            "runs": self.run_ids,
        }


def build_spec(
    base: Mapping[str, Any],
    settings: Mapping[str, Any],
    search: str = "grid",
    trials: int | None = None,
    named: Mapping[str, str] | None = None,
) -> SweepSpec:
    """Split ``base`` (a YAML mapping) and ``settings`` (flags, which win) into base + axes.

    A list given for a scalar setting, in either, is an axis (one-element lists are plain
    values). Raises ConfigError for unknown settings, misplaced distributions, or a bad
    ``search``/``trials``, named as ``named`` says (``{"trials": "lab.yaml: trials"}``
    where the file set it; the flags, ``--trials``, by default).
    """
    said = {"search": "--search", "trials": "--trials", **(named or {})}
    if search not in SEARCHES:
        raise ConfigError(f"{said['search']}: {search!r} is not one of {', '.join(SEARCHES)}")
    if trials is not None and (not isinstance(trials, int) or isinstance(trials, bool)):
        raise ConfigError(f"{said['trials']}: {short_repr(trials)} is not a whole number")
    if search == "random" and (trials is None or trials < 1):
        raise ConfigError(
            f"{said['trials']}: random search needs --trials N with N >= 1 (trials=N in Python)"
        )
    if search != "random" and trials is not None:
        raise ConfigError(f"{said['trials']} applies only to --search random")
    merged = {**dict(base), **dict(settings)}
    fixed: dict[str, Any] = {}
    axes: dict[str, list[Any]] = {}
    for name, value in merged.items():
        if name not in Config.model_fields:
            make_config({name: value})  # raises the usual 'unknown setting' line
        values = _as_values(name, value)
        if len(values) == 1 and not (search == "random" and _is_dist(name, values[0])):
            if _is_dist(name, values[0]):
                raise ConfigError(
                    f"setting '{name}': {values[0]!r} is a distribution; use it with --search random"
                )
            fixed[name] = values[0]
            continue
        if name in NOT_AXES:
            raise ConfigError(f"setting '{name}': a sweep writes to one folder; give one value")
        several = len({str(v) for v in values}) > 1 or (
            search == "random" and _is_dist(name, values[0])
        )
        if name in HASH_EXCLUDED - {"use_xavier"} and several:
            # Runs are named by what they learn: these values would make one run, silently.
            raise ConfigError(
                f"setting '{name}': it does not change what a run learns (the run's name leaves "
                "it out), so several values would train one run; give one value"
            )
        # A list search's rows may repeat a value (two configs of one width).
        if search != "list" and name == "hid_dims" and len({str(v) for v in values}) < len(values):
            # train(hid_dims=[4, 4]) is one model of two layers; in a sweep the list is an
            # axis, and its repeated value would silently make one run of one layer.
            widths = "-".join(str(v) for v in values)
            one_model = (
                f"; for one model of {len(values)} layers give '{widths}' (--hid_dims {widths})"
                if all(str(v).strip().isdigit() for v in values)
                else "; give each model once"
            )
            raise ConfigError(
                f"setting 'hid_dims': {values!r} repeats a value, and in a sweep a list is an "
                f"axis (one model per value){one_model}"
            )
        if search != "random" and any(_is_dist(name, v) for v in values):
            raise ConfigError(
                f"setting '{name}': distributions such as {values[0]!r} need --search random"
            )
        if search == "random" and len(values) > 1 and any(_is_dist(name, v) for v in values):
            raise ConfigError(f"setting '{name}': give one distribution or plain values, not both")
        axes[name] = values
    # The smallest seed, not the first: `--seed 2 1 0`, or seeds added to a search's,
    # drew other configs without a word.
    seeds = axes.get("seed", [fixed.get("seed", 0)])
    plain = []
    for s in [] if _is_dist("seed", seeds[0]) else seeds:
        try:
            plain.append(int(s))
        except (TypeError, ValueError):
            raise ConfigError(f"setting 'seed': {s!r} is not a whole number") from None
    sample_seed = min(plain, default=0)
    spec = SweepSpec(fixed, axes, search, trials, sample_seed)
    if search == "list":
        rows = {n: len(v) for n, v in axes.items() if n != "seed"}
        if len(set(rows.values())) > 1:
            raise ConfigError(
                "--search list: every setting of several values gives one per config, so "
                "they must be as many; got " + ", ".join(f"{n} {k}" for n, k in rows.items())
            )
    _check_count(spec)
    return spec


def count_configs(spec: SweepSpec) -> int:
    """How many configs ``spec`` asks for, before duplicates are dropped."""
    if spec.search == "grid":
        return math.prod(len(v) for v in spec.axes.values())
    if spec.search == "list":
        rows = [len(v) for n, v in spec.axes.items() if n != "seed"]
        return (rows[0] if rows else 1) * len(spec.axes.get("seed", [None]))
    seeds = spec.axes.get("seed", [None])
    replicates = 1 if _is_dist("seed", seeds[0]) else len(seeds)
    return (spec.trials or 0) * replicates


def _check_count(spec: SweepSpec) -> None:
    n = count_configs(spec)
    if n <= MAX_SWEEP_CONFIGS:
        return
    if spec.search == "random":
        where = f"--trials {spec.trials:,}"
        if count_configs(spec) != spec.trials:
            where += f" x {n // (spec.trials or 1):,} seeds"
    else:
        where = "the grid (" + " x ".join(f"{k} {len(v):,}" for k, v in spec.axes.items()) + ")"
    raise ConfigError(
        f"{where} asks for {n:,} configs; a sweep may have at most {MAX_SWEEP_CONFIGS:,}, "
        "each validated before the first run starts: split it into several sweeps"
    )


def check_file_settings(path: str, base: dict[str, Any], given: Collection[str]) -> None:
    """Each setting a sweep's YAML file holds (each value of an axis), alone, with the file
    named in the line of one that is wrong: checked after merging with the flags, it was
    "sweep: ...", whichever the file. Settings the flags override are theirs to check."""
    for name, value in base.items():
        if name in given or name in ("search", "trials"):  # the file's own, checked apart
            continue
        if name not in Config.model_fields:  # an unknown name or a sweep's option: its
            # line, with the file's name (`workers: 2` said no file)
            make_config({name: value}, path)
        for v in _as_values(name, value):  # an axis' values (or a list setting's one)
            try:
                distribution = parse_distribution(name, v)
            except ConfigError as err:  # its line knows no file
                raise ConfigError(f"{path}: {err}") from None
            if distribution is None:
                make_config({name: v}, path)


def _as_values(name: str, value: Any) -> list[Any]:
    if is_list_setting(name):
        if isinstance(value, list | tuple) and any(isinstance(v, list | tuple) for v in value):
            # [[0.8, 0.1, 0.1], [0.6, 0.2, 0.2]] read as an axis of lists.
            raise ConfigError(
                f"setting '{name}': its one value is a list, so it is no axis of a sweep; "
                f"give one {name}, and a sweep (with its own --exp_name) for each other"
            )
        return [value]  # the one value of target/split is itself a list
    if isinstance(value, range):
        value = list(value)  # seed=range(5)
    elif getattr(value, "ndim", None) == 1 and hasattr(value, "tolist"):
        # A NumPy array of values, np.logspace(-3, -1, 5): its elements, each made the
        # number it means below (tolist gave float32's 0.10000000149 for 0.1).
        value = list(value)
    if isinstance(value, list | tuple):
        if not value:
            raise ConfigError(f"setting '{name}': give at least one value")
        return [plain_value(v) for v in value]
    return [plain_value(value)]


def _is_dist(name: str, value: Any) -> bool:
    return parse_distribution(name, value) is not None


def expand(spec: SweepSpec) -> list[Config]:
    """All validated configs of ``spec``, without duplicates; fills ``spec.run_ids``.

    Raises ConfigError (one line naming the setting) before returning anything, so a bad
    value in any axis stops the sweep before a single run starts.
    """
    _check_axis_values(spec)
    raw = {"grid": _grid, "random": _random, "list": _rows}[spec.search](spec)
    configs: list[Config] = []
    seen: set[str] = set()  # run digests
    for values in raw:
        cfg = make_config(values, "sweep")
        # The smallest data a model can have: a model too large even for that never fits.
        check_cost(cfg, n_features=1, n_rows=1)
        # Two configs that share a run id (6 hex digits) are two runs: the sweep gives one
        # of them 8 digits (mlplab.restore.claim_run_id), as the folder's runs allow.
        if cfg.run_digest() in seen:
            continue  # e.g. --act relu RELU: one run, not two writers of one folder
        seen.add(cfg.run_digest())
        configs.append(cfg)
    from mlplab.runs.record import run_name

    spec.run_ids = [run_name(c) for c in configs]
    return configs


def _check_axis_values(spec: SweepSpec) -> None:
    """Validate each axis value on the base alone: the clearest error for a bad value."""
    try:
        make_config(spec.base, "sweep")
    except ConfigError as err:
        # `--lr 0.1,0.2` is one value to argparse; the user meant an axis.
        for name, v in spec.base.items():
            if f"setting '{name}'" in str(err) and isinstance(v, str) and "," in v:
                items = [x.strip() for x in v.strip("[]() ").split(",")]
                hint = comma_hint(name, v.strip("[]() "), in_sweep=True) or (
                    f"a sweep takes several values separated by spaces: --{name} {' '.join(items)}"
                )
                if name == "hid_dims":  # [16,16] is more likely one model of two layers
                    one = f"one model of {len(items)} layers as --hid_dims {'-'.join(items)}"
                    spaced = f"several values separated by spaces: --{name} {' '.join(items)}"
                    hint = f"a sweep takes {one}" + (
                        "" if len(set(items)) < len(items) else f", or {spaced}"
                    )
                raise ConfigError(f"{err}; {hint}") from None
        raise
    for name, values in spec.axes.items():
        for v in values:
            dist = parse_distribution(name, v)
            for edge in dist.edge_values() if dist else [v]:
                try:
                    make_config({**spec.base, name: edge}, "sweep")
                except ConfigError as err:
                    if dist is None and (hint := comma_hint(name, v, in_sweep=True)):
                        raise ConfigError(f"{err}; {hint}") from None  # --lr 0,01 0.1
                    if dist is None:
                        raise
                    # The user gave no such value: the distribution's bound is named.
                    if dist.kind == "choice":
                        raise ConfigError(f"{err}, among --{name} {dist.describe()}") from None
                    raise ConfigError(
                        f"{err} at a bound of --{name} {dist.describe()}: the range "
                        "must hold valid values only"
                    ) from None


def _grid(spec: SweepSpec) -> Iterable[dict[str, Any]]:
    names = list(spec.axes)
    for combo in itertools.product(*(spec.axes[n] for n in names)):
        yield {**spec.base, **dict(zip(names, combo))}


def _rows(spec: SweepSpec) -> Iterable[dict[str, Any]]:
    axes = dict(spec.axes)
    seeds: list[Any] = axes.pop("seed", []) or [None]
    names = list(axes)
    for row in zip(*(axes[n] for n in names), strict=True) if names else [()]:
        for seed in seeds:
            yield {**spec.base, **dict(zip(names, row)), **({} if seed is None else {"seed": seed})}


def _random(spec: SweepSpec) -> Iterable[dict[str, Any]]:
    import numpy as np

    rng = np.random.default_rng(spec.sample_seed)
    axes = dict(spec.axes)
    # Plain seed values are replicates of every sample; a seed distribution is sampled.
    seeds: list[Any] = axes.pop("seed", []) or [None]
    if _is_dist("seed", seeds[0]):
        axes["seed"], seeds = seeds, [None]
    sampled = {
        name: parse_distribution(name, values[0])
        if len(values) == 1
        else Distribution("choice", choices=tuple(values))
        for name, values in axes.items()
    }
    assert spec.trials is not None
    for _ in range(spec.trials):
        draw = {name: dist.sample(rng) for name, dist in sampled.items() if dist is not None}
        for seed in seeds:
            yield {**spec.base, **draw, **({} if seed is None else {"seed": seed})}


def plan_groups(
    configs: list[Config],
    workers: int,
    group_size: int | None = None,
    no_batch: bool = False,
    train_rows: Callable[[Config], int] | None = None,
    whole_shapes: bool = False,
) -> list[list[Config]]:
    """Cut configs into groups: the unit of work one worker trains (a batched trainer at once).

    Configs share a group only when they agree on every setting outside ``GROUP_FREE``
    (same data, network shape and schedule). ``no_batch`` gives groups of one;
    ``group_size`` caps the size; by default each worker gets about one group per
    shape, as long as a group's stack stays under ``STACK_ACTIVATIONS`` hidden
    activations per step (``train_rows(cfg)``: the training rows of its data; without
    it, groups are capped at 32 configs). ``whole_shapes`` (a sweep's prune rule, which
    compares the rows of a stack) keeps each shape one group, as far as memory allows.
    """
    if group_size is not None and group_size < 1:
        raise ConfigError("--group_size: must be at least 1")
    by_shape: dict[str, list[Config]] = {}
    for cfg in configs:
        key = json.dumps(
            {k: v for k, v in cfg.to_dict().items() if k not in GROUP_FREE},
            sort_keys=True,
            default=str,
        )
        by_shape.setdefault(key, []).append(cfg)
    groups: list[list[Config]] = []
    for members in by_shape.values():
        if no_batch:
            size = 1
        elif group_size is not None:
            size = group_size
        elif whole_shapes:
            size = _memory_group_cap(members[0], train_rows)
        else:
            cap = _auto_group_cap(members[0], train_rows)
            size = max(1, min(cap, math.ceil(len(members) / max(1, workers))))
        groups.extend(members[i : i + size] for i in range(0, len(members), size))
    return groups


def _auto_group_cap(cfg: Config, train_rows: Callable[[Config], int] | None) -> int:
    """The most configs of ``cfg``'s shape one stack takes by default."""
    from mlplab.engines.choose import rows_per_step
    from mlplab.training.grouping import DEFAULT_MAX_GROUP

    if train_rows is None:
        return 32
    rows = rows_per_step(train_rows(cfg), cfg.batch_size)
    units = max(1, sum(cfg.hidden_widths()))
    return max(1, min(DEFAULT_MAX_GROUP, STACK_ACTIVATIONS // max(1, rows * units)))


def _memory_group_cap(cfg: Config, train_rows: Callable[[Config], int] | None) -> int:
    """The most configs of ``cfg``'s shape whose step's hidden activations take at most a
    quarter of this machine's memory (the rest: the data, the weights, the gradients)."""
    from mlplab.data.cost import ACTIVATION_COPIES, DTYPE_BYTES, memory_budget
    from mlplab.engines.choose import rows_per_step

    rows = rows_per_step(train_rows(cfg), cfg.batch_size) if train_rows is not None else 1
    units = max(1, sum(cfg.hidden_widths()))
    per_model = rows * units * DTYPE_BYTES.get(cfg.dtype, 8) * ACTIVATION_COPIES
    # No cap for speed (the default groups' 256): the rule compares the rows of a stack.
    return max(1, memory_budget() // 4 // per_model)
