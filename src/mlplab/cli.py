"""The ``mlplab`` command: parses arguments and hands off. It holds no logic.

Every setting of :class:`mlplab.config.Config` becomes a ``--flag`` of ``train`` and
``sweep``, built from the one declaration there. Errors in user input print one line
``mlplab: ...`` and exit with status 2. This module imports neither torch nor NumPy, so
``mlplab --help`` and ``mlplab datasets`` answer at once.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import re
import shlex
import signal
import stat
import sys
import tempfile
import textwrap
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, get_args

from mlplab import __version__
from mlplab.errors import RUN_FOLDER, limit_met, one_line_warning

GROUP_TITLES = {
    "seed": "seed",
    "data": "data",
    "model": "model",
    "optimizer": "optimizer",
    "schedule": "schedule",
    "runtime": "runtime",
    "output": "output",
}
# Said under a group's title (argparse wraps a description, not a title).
GROUP_NOTES = {
    "schedule": "log_every and snapshot_every count steps; validate_every and save_every "
    "count epochs",
}

NO_PROGRESS_HELP = (
    "no progress bar on a terminal: lines, as in a log (a screen reader reads each repaint "
    "of a bar); the environment variable MLPLAB_NO_PROGRESS=1 does the same"
)

EXAMPLES_TRAIN = """A run's record goes to LOG_PATH/EXP_NAME/RUN_ID/: result.json, metrics.csv, checkpoints,
TensorBoard events (tensorboard --logdir runs) and plots. The same command again keeps a
finished run (--rerun trains it again) and continues an interrupted one. A run is its
settings but --plots, --snapshot_every, --log_every, --log_val, --save_every,
--test_batch_size, --model_name, --device and --id_digits: changing only those keeps the
finished run as it was (mlplab plot RUN_DIR redraws its plots without training).

examples:
  mlplab train --config examples/xor_nn.yaml
  # the xor-nn lab from flags (init torch draws the slide's weights):
  mlplab train --data xor --n_layer 1 --hid_dim 2 --act sigmoid --optim sgd --lr 1 --epoch 10001 \\
      --seed 777 --init torch
  mlplab train --data sinlog --hid_dim 200 --lr 0.005 --epoch 4000 --log_every 200
  mlplab train --data my.csv --target label --optim ADAM --lr 1e-3 --batch_size 32
  mlplab train --resume runs/exp/exp-3fa2b1
"""

EXAMPLES_SWEEP = """A flag given several values becomes an axis of the grid; the grid is their product.
--split, --target and --ignore take their values as one setting (a split's parts, a model's
targets, the columns left out),
and --exp_name, --log_path and the settings that change nothing learned take one value.
Each run's record is as `mlplab train` writes it; the same command again trains only the
runs not yet finished.

examples:
  mlplab sweep --data ring --n_layer 1 2 3 --hid_dim 50 100 --seed 0 1 2 --epoch 200 --exp_name ring-grid
  mlplab sweep --config examples/xor_nn.yaml --lr 0.1 1 --seed 0 1 2 3 --exp_name xor-grid
  mlplab sweep --data moons --search random --trials 20 --lr loguniform:1e-4:1e-1 --hid_dim choice:8:32:128 --exp_name moons-search

A random search draws each setting from loguniform:LOW:HIGH, uniform:LOW:HIGH,
int:LOW:HIGH (ends included) or choice:A:B:...; a plain list is a choice, but for --seed,
whose every seed trains each sample drawn.
"""

EXAMPLES_GRADCHECK = """--seed N draws the random inputs and weights (default 0). Exit status 1 when a check fails.

examples:
  mlplab gradcheck
  mlplab gradcheck examples/xor_nn.yaml
  mlplab gradcheck --data ring --n_layer 2 --hid_dim 16 --act tanh --use_bn --optim adam
"""

EXAMPLES_BACKPROP = """Names follow the lecture: l1 = X @ w1 + b1, a1 = act(l1), ..., Y_pred, cost, d_Y_pred,
d_l2, d_w2, d_a1, d_l1, d_w1, d_b1, then new_w1 = the optimizer's update. Exit status 1 when a
quantity differs from torch autograd.

examples:
  mlplab backprop examples/xor_nn.yaml
  mlplab backprop examples/xor_nn.yaml --step 100 --plot step100.png
  mlplab backprop --data moons --n_samples 40 --batch_size 8 --n_layer 2 --use_bn --dp_rate 0.2
  mlplab backprop --resume runs/xor-nn/xor-nn-3fa2b1
  mlplab backprop examples/xor_nn.yaml --form lecture --dtype float64
"""


# What each setting's value is, in --help: the placeholder after its flag. Settings not
# named here get one from their type (N for integers, X for other numbers).
METAVARS = {
    "data": "NAME|FILE",
    "target": "COLUMN",
    "split": "SIZE",
    "lr": "LR",
    "mm": "MOMENTUM",
    "l2_coef": "COEF",
    "l1_coef": "COEF",
    "lr_gamma": "GAMMA",
    "dp_rate": "P",
    "hid_dims": "W-W...",
    "device": "DEVICE",
    "log_path": "DIR",
    "exp_name": "NAME",
    "model_name": "NAME",
    "act": "ACT",
}
# Up to this many allowed values are shown as the placeholder itself, {a,b,c}.
INLINE_CHOICES = 5


def _metavar(name: str, annotation: Any, choices: tuple[str, ...] | None, multi: bool) -> str:
    if choices and len(choices) <= INLINE_CHOICES and not multi:
        return "{" + ",".join(choices) + "}"
    if name in METAVARS:
        return METAVARS[name]
    if choices:
        return name.upper()  # several values of a few choices: listed in the help
    text = str(annotation)
    if "int" in text:
        return "N"
    if "float" in text:
        return "X"
    return "TEXT"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) and 'did you mean' for unknown flags.

    No abbreviations: `--l1 0.01` set l1_coef and `--noi 0.2` noise without a word, which
    Python's `train(l1=0.01)` and a YAML file refuse; a prefix that one day names two
    settings would also stop a script that worked. A prefix is refused with the near name.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self.words = list(sys.argv[1:] if args is None else args)  # for error()'s hints
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        if message.startswith("the following arguments are required"):
            # `mlplab predict RUN --dat new.csv`: the misspelt flag is the fault, not the
            # missing --data that it was meant to be.
            unknown = [
                w
                for w in getattr(self, "words", [])
                if w.startswith("--")
                and w != "--"
                and w.split("=")[0] not in self._option_string_actions
            ]
            if unknown:
                message = f"unrecognized arguments: {unknown[0]}"
        if message.startswith("argument --backend: invalid choice: "):
            typed = message.split("invalid choice: ", 1)[1].split(" (", 1)[0].strip("'\"")
            from mlplab.config import ENGINE_CHOICES, ENGINE_MEANT

            if typed.lower() in ENGINE_CHOICES:  # `mlplab sweep --backend numpy`
                message += f"; {ENGINE_MEANT.format(f'--engine {typed.lower()}')}"
        if "invalid choice: " in message and self.prog == "mlplab":  # `mlplab trian`
            from mlplab.errors import nearest

            typed = message.split("invalid choice: ", 1)[1].split(" (", 1)[0].strip("'\"")
            commands = re.findall(r"'([a-z]+)'", message.split("choose from", 1)[-1])
            near = nearest(typed, commands) if commands else None
            if near:
                message = f"{message}; did you mean {near!r}?"
        if "unrecognized arguments" in message:
            bad = message.split(":", 1)[1].split()
            flags = [b for b in bad if b.startswith("--")]
            dashed = [b for b in bad if b[:1] == "-" and b[1:2].isalpha()]
            assigned = [b for b in bad if _setting_as_assignment(b, self)]
            if dashed and not flags and f"-{dashed[0]}" in self._option_string_actions:
                # `-lr 0.1`: one dash, where settings take two.
                message = f"unknown flag {dashed[0]!r}: settings take two dashes (-{dashed[0]})"
            elif dashed and not flags and len(dashed[0]) == 2:
                # `-c FILE`: a short flag guessed from other tools.
                like = [a for a in self._option_string_actions if a[2:3] == dashed[0][1]]
                message = (
                    f"unknown flag {dashed[0]!r}: mlplab's flags are words after two dashes"
                    + (f" ({', '.join(sorted(like)[:4])})" if like else "")
                    + f"; see `{self.prog} --help`"
                )
            elif assigned:
                message = _assignment_message(assigned[0])
            elif flags:
                name = flags[0][2:].split("=")[0]
                known = [a.lstrip("-") for a in self._option_string_actions if a.startswith("--")]
                from mlplab.config import setting_hint

                hint = setting_hint(name, known, "--{}")
                elsewhere = [
                    command
                    for command, other in getattr(self, "siblings", {}).items()
                    if other is not self and f"--{name}" in other._option_string_actions
                ]
                from mlplab.config import ENGINE_CHOICES, ENGINE_MEANT

                value = _value_of(f"--{name}", getattr(self, "words", []))
                engine_here = "--engine" in self._option_string_actions  # not predict's
                if name == "backend" and value.lower() in ENGINE_CHOICES and engine_here:
                    hint = f": {ENGINE_MEANT.format(f'--engine {value.lower()}')}"
                elif elsewhere:  # `mlplab train --no_batch`: fuzzy matching named --log_path
                    listed = ", ".join(elsewhere[:-1]) + " and " * (len(elsewhere) > 1)
                    hint = f" (a setting of mlplab {listed}{elsewhere[-1]})"
                message = f"unknown setting '--{name}'{hint}; see `{self.prog} --help`"
            elif self.prog.endswith(" train"):  # `--lr 1 2 3`: values past the first
                message += f"; {ONE_VALUE}"
        if message.endswith("expected one argument"):
            # `--data -x.csv`: argparse takes a value that starts with '-' for a flag.
            flag = message.removeprefix("argument ").split(":", 1)[0].split("/")[-1]
            after = _value_of(flag, getattr(self, "words", []))
            if after.startswith("-") and after not in self._option_string_actions:
                message += f" (a value that starts with '-' is given as {flag}={after})"
        # Every user error starts with "mlplab:" (then the subcommand), on one line.
        words = self.prog.split()
        where = f"{words[1]}: " if len(words) > 1 else ""
        self.exit(2, f"mlplab: {where}{message}\n")


# Settings that change nothing in `mlplab backprop` (it records nothing and traces on the
# NumPy engine): accepted, but not listed in its --help.
NOT_IN_A_TRACE = frozenset(
    {"log_path", "exp_name", "model_name", "plots", "snapshot_every", "save_every"}
    | {"log_every", "engine", "device", "test_batch_size", "log_val", "id_digits"}
)

# What a gradient check does not use: it computes in float64 on inputs of its own, a few
# steps of the optimizer, with no schedule of epochs.
NOT_IN_A_CHECK = NOT_IN_A_TRACE | {
    *("dtype", "epoch", "batch_size", "patience", "min_delta", "validate_every", "log_val"),
    *("lr_schedule", "lr_gamma", "lr_step", "split", "standardize", "standardize_target"),
    *("l1_coef", "stratify"),
}

# The hint for values past a setting's first in `mlplab train`.
ONE_VALUE = "a setting of `mlplab train` takes one value (several make a sweep: `mlplab sweep`)"


def _setting_flags(
    parser: argparse.ArgumentParser, multi: bool, hidden: frozenset[str] = frozenset()
) -> None:
    """A flag per setting, in its group. ``hidden`` settings are accepted (a config's own
    flags may be passed on) but left out of ``--help``."""
    from mlplab.config import HASH_EXCLUDED, Config, choices_of, field_group, field_help

    groups: dict[str, Any] = {}
    # A group of hidden settings only has no note either: argparse shows a note's group
    # (gradcheck's help had a `schedule:` heading over none of its flags).
    visible = {field_group(name) for name in Config.model_fields if name not in hidden}
    for name, info in Config.model_fields.items():
        group = field_group(name)
        if group not in groups:
            groups[group] = parser.add_argument_group(
                GROUP_TITLES.get(group, group), GROUP_NOTES.get(group) if group in visible else None
            )
        choices = choices_of(name)
        default = info.default
        metavar = _metavar(name, info.annotation, choices, multi)
        is_list = "list" in str(info.annotation)
        # `standardize` is a bool or "auto": a bare flag still means true.
        is_bool = info.annotation is bool or bool in get_args(info.annotation)
        kw: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS}
        if is_bool:
            metavar = "BOOL" if info.annotation is bool else "{auto,true,false}"
        kw["metavar"] = metavar
        if is_bool and multi:  # several values make an axis; none means true, as in train
            kw["nargs"], kw["action"] = "*", _BareMeansTrue
        elif is_list or multi:
            kw["nargs"] = "+"
        elif is_bool:
            kw["nargs"] = "?"
            kw["const"] = "true"
        help_text = field_help(name)
        if choices and not kw["metavar"].startswith("{"):  # else the flag shows them
            help_text += f" {{{', '.join(choices)}}}"
        if "default:" not in help_text:  # some helps say what no value means themselves
            shown = "none" if default is None else default
            if isinstance(default, bool):
                shown = str(default).lower()  # as written in YAML and on the command line
            help_text += f" (default: {shown})"
        kw["help"] = help_text
        if name in hidden:
            kw["help"] = argparse.SUPPRESS
        action = groups[group].add_argument(f"--{name}", **kw)
        # A sweep refuses several values of these (one folder; one run of what is learned).
        action.one_value = multi and name in HASH_EXCLUDED - {"use_xavier"}


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Shows a sweep's one-value settings as ``--log_path DIR``, not ``DIR [DIR ...]``,
    and fits the descriptions and examples to the terminal.

    The one-value settings take ``nargs="+"`` only so that a second value gets the
    sweep's reason for refusing it ("a sweep writes to one folder") rather than argparse's.
    """

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        """Prose wrapped to ``width``; an example command (an indented line) broken at its
        spaces with a shell continuation, so that it still runs as pasted. Written at 88
        to 107 columns, the examples wrapped mid-word on an 80-column terminal."""
        import textwrap

        width = min(width, 88)  # on a wide terminal, prose as long as a line reads well
        out: list[str] = []
        prose: list[str] = []

        def flush() -> None:
            if prose:
                out.extend(textwrap.wrap(" ".join(prose), width, break_on_hyphens=False))
                prose.clear()

        for line in text.splitlines():
            if not line.strip():
                flush()
                out.append("")
            elif not line.startswith(" "):
                prose.append(line.strip())
            else:
                flush()
                margin = line[: len(line) - len(line.lstrip())]
                body = line.strip()
                command = body.startswith(("mlplab ", "--")) and "#" not in body
                if len(line) <= width:
                    out.append(line)
                elif not command:  # a comment or an indented note: wrapped at its margin
                    lead = "# " if body.startswith("#") else ""
                    out.extend(
                        textwrap.wrap(body.removeprefix("#").strip(), width - len(margin) - 2,
                                      initial_indent=margin + lead,
                                      subsequent_indent=margin + (lead or "  "))
                    )  # fmt: skip
                else:
                    out.extend(self._broken_command(body, margin, width))
        flush()
        return "\n".join(indent + line if line else line for line in out).rstrip("\n")

    @staticmethod
    def _broken_command(body: str, margin: str, width: int) -> list[str]:
        """A command too long for ``width``, broken before a flag (which keeps its values
        beside it), each line but the last ending in a shell continuation. A command with
        no flag to break before stays one line."""
        chunks = [""]
        for word in body.split():
            if word.startswith("--") and chunks[-1]:
                chunks.append(word)
            else:
                chunks[-1] = f"{chunks[-1]} {word}".strip()
        parts = [chunks[0]]
        for chunk in chunks[1:]:
            if len(parts[-1]) + len(chunk) + 1 <= width - len(margin) - 6:
                parts[-1] = f"{parts[-1]} {chunk}"
            else:
                parts.append(chunk)
        lines = [
            f"{margin}{p} \\" if i == 0 else f"{margin}    {p} \\" for i, p in enumerate(parts)
        ]
        lines[-1] = lines[-1].removesuffix(" \\")
        return lines

    def _format_args(self, action: argparse.Action, default_metavar: str) -> str:
        if getattr(action, "one_value", False):
            return str(self._metavar_formatter(action, default_metavar)(1)[0])
        return super()._format_args(action, default_metavar)


class _BareMeansTrue(argparse.Action):
    """A sweep's switch given alone (``--use_bn``) is ``true``, as ``mlplab train`` reads it."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values or ["true"])


def _settings_from(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given as flags, in the order they were typed: a sweep's axes keep it
    (its table's columns, the report's first swept setting)."""
    from mlplab.config import Config

    given = [name for name in Config.model_fields if hasattr(args, name)]
    typed = getattr(args, "flags_typed", [])
    given.sort(key=lambda name: typed.index(name) if name in typed else len(typed))
    return {name: _null(getattr(args, name)) for name in given}


def _null(v: Any) -> Any:
    """``null`` or ``~`` alone means "no value" (e.g. ``--target null``).

    Inside a list of several values it stays a string: a column may be named ``NULL``.
    """
    if isinstance(v, list):
        return None if len(v) == 1 and _null(v[0]) is None else v
    return None if isinstance(v, str) and v.lower() in ("null", "~") else v


# --- handlers (each imports what it needs, late) --------------------------------------------
def _config_arguments(p: argparse.ArgumentParser) -> None:
    """``--config FILE.yaml``, or the file as the first argument (see :func:`_config_path`)."""
    p.add_argument("--config", metavar="FILE.yaml", help="YAML file of settings; flags override it")
    p.add_argument(
        "config_file",
        nargs="?",
        metavar="FILE.yaml",
        help="the same as --config FILE.yaml (put it before flags that take several values, "
        "such as --target a b)",
    )


def _config_path(args: argparse.Namespace) -> None:
    """``mlplab train FILE.yaml`` is ``mlplab train --config FILE.yaml``."""
    given = getattr(args, "config_file", None)
    if given is None:
        return
    from mlplab.errors import ConfigError

    # With the curly quotes a slide pasted around it, a file's name is still one.
    yaml = given.strip("\u201c\u201d\u2018\u2019\"'").endswith((".yaml", ".yml"))
    parser = args.commands.get(args.command)
    name, eq, _ = given.partition("=")
    if not Path(given).exists() and not yaml and parser is not None and eq and name.isidentifier():
        if _setting_as_assignment(given, parser):  # `mlplab train --data xor lr=0.5`
            raise ConfigError(_assignment_message(given))
        from mlplab.config import setting_hint

        known = [a[2:] for a in parser._option_string_actions if a.startswith("--")]
        raise ConfigError(
            f"{given!r}: settings are flags and their values (--name value), and {name!r} is "
            f"no setting{setting_hint(name, known, '--{}')}; see `{parser.prog} --help`"
        )
    if given == "-" and not Path(given).exists():  # `cat cfg.yaml | mlplab train -`
        args.config = given  # said as --config - is: read from a file, not standard input
        return
    if not yaml and not Path(given).exists():
        # `--lr 1 2`, `--workers 2 3`: argparse takes the second value for FILE.yaml.
        if args.command == "train":
            widths = getattr(args, "hid_dims", None)
            if given.isdecimal() and isinstance(widths, str) and widths.isdecimal():
                # `--hid_dims 256 128`, a list as Python writes one
                raise ConfigError(
                    f"{given!r} is not a config file: hid_dims' widths are joined by '-': "
                    f"--hid_dims {widths}-{given}"
                )
            raise ConfigError(f"{given!r} is not a config file; {ONE_VALUE}")
        raise ConfigError(
            f"config file {given!r} does not exist (a second value of a flag that takes one?)"
        )
    # After the lines above: `--config lab.yaml --hid_dims 256 128` is a second value, not
    # a second config file '128'.
    if args.config is not None and args.config != given:
        raise ConfigError(f"two config files: {given!r} and --config {args.config!r}; give one")
    args.config = given


def _cmd_train(args: argparse.Namespace) -> int:
    from mlplab.config import load_config

    _config_path(args)
    overrides = _settings_from(args)
    _no_config_among_values(args.config, overrides, "train")
    if args.print_config and args.print_run_dir:  # one printed, the other lost unsaid
        from mlplab.errors import ConfigError

        raise ConfigError(
            "--print_config and --print_run_dir each print one thing and exit; give one "
            "(run the command twice for both)"
        )
    if args.print_config:
        from mlplab.pipes import writes_utf8

        # Escaped where the output cannot show the characters: `?` would not load again.
        print(load_config(args.config, overrides).to_yaml(writes_utf8(sys.stdout)), end="")
        return 0
    if args.print_run_dir:  # for a script: where the record of this config goes, or is
        from mlplab.errors import ConfigError
        from mlplab.runner import check_trainable

        if args.resume:
            raise ConfigError("--print_run_dir names a config's run folder; --resume names one")
        # The folder train writes (8 hex digits where another config's run holds the 6),
        # once the data is found to load: a bad data file gets train's line and status 2.
        print(check_trainable(load_config(args.config, overrides), rerun=args.rerun))
        return 0
    from mlplab.runner import as_command

    with as_command():  # its lines name the flags that it was given
        return _train_command(args, overrides)


def _train_command(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    from mlplab.config import load_config
    from mlplab.runner import early_stops, train

    if args.resume:
        if overrides or args.config or args.rerun:
            import shlex

            from mlplab.config import HASH_EXCLUDED
            from mlplab.errors import ConfigError
            from mlplab.runs.record import log_path_of

            given = [f"--{k}" for k in overrides] + ["--config"] * bool(args.config)
            # Settings of how a run is watched are not its identity: its own config with
            # them continues the same run, found by that identity under its log_path (which
            # config.yaml does not hold, so that a record moves as it is).
            watched = HASH_EXCLUDED - {"log_path", "exp_name", "use_xavier"}
            watching = bool(overrides) and set(overrides) <= watched and not args.config
            flags = " ".join(
                f"--{k} {shlex.quote(str(v).lower() if isinstance(v, bool) else str(v))}"
                for k, v in overrides.items()
            )
            raise ConfigError(
                "--resume continues a run with its own config; give no other settings"
                + (f" (got {', '.join(given)})" if given else "")
                + (
                    " (--rerun starts a finished run again: give it with the config)"
                    if args.rerun
                    else ""
                )
                + (
                    f"; to continue it with {flags}, give them with its config: `mlplab "
                    f"train {shlex.quote(str(Path(args.resume) / 'config.yaml'))} --log_path "
                    f"{shlex.quote(str(log_path_of(args.resume)))} {flags}`"
                    if watching and not args.rerun
                    else ""
                )
            )
        with early_stops():
            result = train(
                resume=args.resume, verbose=not args.quiet, handle_signals=True, lock=True
            )
    else:
        cfg = load_config(args.config, overrides)
        _note_empty_config(args)
        with early_stops():
            result = train(
                cfg,
                verbose=not args.quiet,
                handle_signals=True,
                lock=True,
                rerun=args.rerun,
            )
    if args.quiet and result.exit_code:
        # Quiet still says why the status is not 0: a run that did not finish (diverged,
        # interrupted), or a stop that came as it finished, whose record has no message.
        from mlplab.runner import EXIT_FOR_SIGNAL, came_as_it_ended

        by = {c: signal.Signals(s).name for s, c in EXIT_FOR_SIGNAL.items()}.get(result.exit_code)
        why = result.record.get("message") or (
            came_as_it_ended(by) if by and result.status == "finished" else None
        )
        if why:
            print(f"mlplab: {why}", file=sys.stderr)
    return result.exit_code


def _cmd_sweep(args: argparse.Namespace) -> int:
    from mlplab.sweeps.api import sweep_command

    _config_path(args)
    settings = _settings_from(args)
    _no_config_among_values(args.config, settings, "sweep")
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # A job a script starts in the background inherits SIGINT ignored. Its workers
        # take SIGINT all the same (and `mlplab train` does): a Ctrl-C or `kill -INT` to
        # the group stopped them, while the sweep went on and exited 0.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    _note_empty_config(args)
    return sweep_command(args.config, settings, vars(args))


def _note_empty_config(args: argparse.Namespace) -> None:
    """An empty config file (or one of comments) trained every default, silently: a
    student's empty submission passed a grader's run step."""
    from mlplab.config import read_yaml

    if args.config is not None and not args.quiet and not read_yaml(args.config):
        print(
            f"mlplab: note: {args.config} sets nothing: every setting not given as a flag "
            "is its default",
            flush=True,
        )


def _no_config_among_values(config: str | None, settings: dict[str, Any], command: str) -> None:
    """``mlplab sweep --lr 0.1 1 FILE.yaml``, ``mlplab train --target a b FILE.yaml``: a
    flag of several values takes the file too (train read it as a third target, and loaded
    no config)."""
    if config is not None:
        return
    for name, values in settings.items():
        last = values[-1] if isinstance(values, list) and len(values) > 1 else None
        if isinstance(last, str) and last.endswith((".yaml", ".yml")):
            from mlplab.errors import ConfigError

            raise ConfigError(
                f"setting '{name}': {last!r} was read as one of its values; give the config "
                f"file first (`mlplab {command} {last} --{name} ...`) or as --config {last}"
            )


def _cmd_report(args: argparse.Namespace) -> int:
    from mlplab.reports.api import report

    if args.out == "-":  # as predict's --out - reads: it made a folder named "-"
        from mlplab.errors import ConfigError

        raise ConfigError(
            "report --out '-': a report is a folder of files (report.html, results.csv, "
            "summary.csv), not standard output; give a folder (./- names one called -)"
        )
    report(
        args.log_path,
        exp_name=args.exp_name,
        out=args.out,
        verbose=not args.quiet,
        rank_by=args.rank_by,
        figures=not args.no_figures,
    )
    return 0


def _cmd_gradcheck(args: argparse.Namespace) -> int:
    from mlplab.config import load_config
    from mlplab.errors import ConfigError

    _config_path(args)
    settings = _settings_from(args)
    _no_config_among_values(args.config, settings, "gradcheck")
    seed = str(settings.get("seed", 0))
    if seed.startswith("-") and seed[1:].isdigit():  # NumPy's seeds are non-negative
        raise ConfigError(f"gradcheck: --seed must be a non-negative integer (got {seed})")
    cfg = load_config(args.config, settings)  # validated before torch loads
    ignored = [f"--{k} {v}" for k, v in settings.items() if k in NOT_IN_A_CHECK]
    if ignored:
        print(
            f"mlplab: note: not used by a gradient check (float64, inputs of its own): {'; '.join(ignored)}"
        )
    from mlplab.gradcheck import check_config, print_results, run_gradcheck, unchecked_settings

    if args.config is None and set(settings) <= {"seed"}:  # the fixed suite
        return print_results(run_gradcheck(cfg.seed))
    status = print_results(check_config(cfg))
    if left := unchecked_settings(cfg):
        # "3/3 checks passed" read as every part of the config verified.
        print(f"mlplab: note: not checked: {'; '.join(left)}", flush=True)
    return status


def _cmd_backprop(args: argparse.Namespace) -> int:
    from mlplab.chainrule import backprop_command

    _config_path(args)
    settings = _settings_from(args)
    _no_config_among_values(args.config, settings, "backprop")
    return backprop_command(
        args.config,
        settings,
        args.step,
        args.resume,
        args.plot,
        args.threshold,
        form=args.form,
        row=args.row,
    )


def _cmd_datasets(args: argparse.Namespace) -> int:
    from mlplab.data.registry import BUILTIN, datasets_table

    if args.names:  # one a line, for a script's `for d in $(mlplab datasets --names)`
        print("\n".join(BUILTIN))
        return 0
    print(datasets_table())
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from mlplab.errors import ConfigError
    from mlplab.plots.commands import plot_command
    from mlplab.restore import load_run

    target = args.target
    if args.activations and target not in (None, "activations"):
        raise ConfigError(f"plot: give a RUN_DIR ({target!r}) or --activations, not both")
    if args.activations:
        target = "activations"
    if target is None:
        raise ConfigError(
            "plot: give a RUN_DIR to redraw a run's plots, or 'activations' (--activations) "
            "to draw the activation functions"
        )
    if args.checkpoint != "last" and target == "activations":
        raise ConfigError("plot: --checkpoint picks a run's model; the activations have none")
    return plot_command(target, load_run, out=args.out, fmt=args.format, which=args.checkpoint)


def _cmd_predict(args: argparse.Namespace) -> int:
    from mlplab.predict import predict_command

    return predict_command(
        args.run_dir,
        args.data,
        out=args.out,
        which=args.checkpoint,
        quiet=args.quiet,
        keep=args.keep or (),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mlplab",
        description="Multilayer perceptrons for learning, teaching and small experiments: "
        "one config, two engines (NumPy by the chain rule, PyTorch), complete run records.",
        epilog="Run `mlplab COMMAND --help` for the settings of each command.",
    )
    parser.add_argument("--version", action="version", version=f"mlplab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands: dict[str, argparse.ArgumentParser] = {}
    parser.set_defaults(commands=commands)

    def add(
        name: str, help: str, handler: Callable[[argparse.Namespace], int], **kw: Any
    ) -> argparse.ArgumentParser:
        # Wrapped here: the raw formatter that keeps the examples' lines keeps this one's too.
        p = sub.add_parser(name, help=help, description=textwrap.fill(help, 79), **kw)
        p.set_defaults(handler=handler)
        commands[name] = p
        p.siblings = commands  # type: ignore[attr-defined]  # for its flags' hints
        return p

    fmt = _HelpFormatter
    p = add(
        "train",
        "train one model from a config file and flags",
        _cmd_train,
        epilog=EXAMPLES_TRAIN,
        formatter_class=fmt,
    )
    _config_arguments(p)
    p.add_argument(
        "--print_config", action="store_true", help="print the resolved config as YAML and exit"
    )
    p.add_argument(
        "--print_run_dir",
        action="store_true",
        help="print the run folder of this config (where train writes its record, or has) "
        "and exit, for scripts; its data is read and checked as train reads it (exit 2 "
        "where train would refuse it)",
    )
    p.add_argument(
        "--resume", metavar="RUN_DIR", help="continue an interrupted run from its last checkpoint"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("--no_progress", action="store_true", help=NO_PROGRESS_HELP)
    p.add_argument(
        "--rerun",
        action="store_true",
        help="train again a config whose run has finished (the new run replaces the old "
        "one only once it has finished), or start an interrupted one afresh; without it, "
        "a finished run is kept and an interrupted one continues from its checkpoint",
    )
    _setting_flags(p, multi=False)

    p = add(
        "sweep",
        "train a grid (or random sample) of configs and report on them",
        _cmd_sweep,
        epilog=EXAMPLES_SWEEP,
        formatter_class=fmt,
        # argparse's own usage listed every setting as `--log_path DIR [DIR ...]`, as if
        # each could be an axis; the settings and which take one value are below.
        usage="mlplab sweep [-h] [FILE.yaml | --config FILE.yaml]"
        "\n                    [--search {grid,random,list}] [--trials N] [--workers N]"
        "\n                    [--backend {local,ray}] [--rerun] [options]"
        "\n                    [--SETTING VALUE [VALUE ...] ...]",
    )
    p.add_argument(
        "--config", metavar="FILE.yaml", help="YAML file of base settings; flags override it"
    )
    p.add_argument(
        "config_file",
        nargs="?",
        metavar="FILE.yaml",
        help="the same as --config FILE.yaml (put it before flags that take several values)",
    )
    g = p.add_argument_group("sweep")
    g.add_argument(
        "--search",
        choices=("grid", "random", "list"),
        default=None,
        help="grid: every combination; random: --trials samples; list: config i takes the "
        "i-th value of every flag of several values (--seed values replicate each) "
        "(default: the one the YAML file or sweep record keeps, else grid)",
    )
    g.add_argument(
        "--trials",
        type=int,
        default=None,
        metavar="N",
        help="number of random-search samples (required with --search random)",
    )
    g.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="parallel worker processes (default: the CPUs this process may use)",
    )
    g.add_argument(
        "--rerun",
        action="store_true",
        help=(
            "train every run again from its start, even finished or interrupted ones "
            "(by default a finished run is skipped and an interrupted one continues "
            "from its checkpoint)"
        ),
    )
    g.add_argument(
        "--backend",
        choices=("local", "ray"),
        default="local",
        help="local processes, or a Ray cluster (default: local)",
    )
    g.add_argument(
        "--address",
        default=None,
        metavar="ADDRESS",
        help="Ray address: auto, HOST:PORT or ray://HOST:PORT (--backend ray; default: start a local Ray)",
    )
    g.add_argument(
        "--group_size",
        type=int,
        default=None,
        metavar="N",
        help="configs trained together per task (batched); default: automatic",
    )
    g.add_argument(
        "--cpus_per_task",
        type=float,
        default=1.0,
        metavar="X",
        help="CPUs per Ray task (--backend ray; default: 1)",
    )
    g.add_argument(
        "--gpus_per_task",
        type=float,
        default=0.0,
        metavar="X",
        help="GPUs per Ray task, fractions allowed (--backend ray; default: 0)",
    )
    g.add_argument(
        "--no_batch", action="store_true", help="train every config alone (no batched trainer)"
    )
    g.add_argument(
        "--shard",
        default=None,
        metavar="I/N",
        help="train only the I-th of N parts of the runs (I from 0), one per task of a job "
        "array: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT --no_report, then "
        "mlplab report once all have ended",
    )
    g.add_argument(
        "--no_report",
        action="store_true",
        help="do not write the report (nor update the sweep tables) at the end",
    )
    g.add_argument(
        "--rank_by",
        default=None,
        metavar="METRIC",
        help="the validation metric that ranks configs in the report and the live view "
        "(as mlplab report --rank_by; default: val_acc or val_mse)",
    )
    g.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    g.add_argument("--no_progress", action="store_true", help=NO_PROGRESS_HELP)
    g.add_argument(
        "--dry_run",
        action="store_true",
        help="check the configs and the data, say how many runs the sweep holds, how many "
        "have finished and what is left to train (epochs, stacked models), and exit: "
        "nothing is trained or written",
    )
    _setting_flags(p, multi=True)

    p = add(
        "report",
        "collect the runs under LOG_PATH into a table, results.csv and report.html",
        _cmd_report,
    )
    p.add_argument(
        "log_path",
        metavar="LOG_PATH",
        nargs="?",
        default="runs",
        help="folder that holds run directories (default: runs, where train and sweep write)",
    )
    p.add_argument(
        "--exp_name", default=None, metavar="NAME", help="only the runs in LOG_PATH/NAME/"
    )
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="folder for results.csv, summary.csv and report.html (default: LOG_PATH[/EXP_NAME])",
    )
    p.add_argument(
        "--rank_by",
        default=None,
        metavar="METRIC",
        help="the validation metric that ranks configs: val_acc (default), val_bacc, val_f1 "
        "or val_loss for classification (val_bacc or val_f1 on unequal classes); val_mse "
        "(default), val_mae, val_rmse or val_r2 for regression",
    )
    p.add_argument(
        "--no_figures",
        action="store_true",
        help="write the tables and report.html without the report's own figures (each "
        "best run's pictures, drawn already, stay): quicker on a sweep of many configs, "
        "where those figures take most of the time",
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print no tables or notes (report.html has them); errors and the result.json "
        "files left out are still said",
    )

    p = add(
        "gradcheck",
        "check every gradient of the NumPy engine against finite differences and torch "
        "autograd: a fixed suite of layers, losses, models and optimizers, or, given a config "
        "or settings, that model and its optimizer",
        _cmd_gradcheck,
        epilog=EXAMPLES_GRADCHECK,
        formatter_class=fmt,
    )
    _config_arguments(p)
    _setting_flags(p, multi=False, hidden=NOT_IN_A_CHECK)

    p = add(
        "backprop",
        "show one training step by the chain rule: every quantity of the forward and backward "
        "pass and the update, each checked against torch autograd",
        _cmd_backprop,
        epilog=EXAMPLES_BACKPROP,
        formatter_class=fmt,
    )
    _config_arguments(p)
    p.add_argument(
        "--step",
        type=int,
        default=0,
        metavar="N",
        help="train N steps first, show step N (default 0)",
    )
    p.add_argument(
        "--row",
        type=int,
        metavar="N",
        help="with --batch_size 1: the step on 0-based row N of the training data, in its "
        "own order, instead of the shuffled order's",
    )
    p.add_argument(
        "--resume", metavar="RUN_DIR", help="start from a run's last checkpoint (its next step)"
    )
    p.add_argument(
        "--plot", metavar="FILE.png", help="also draw the network with each weight and gradient"
    )
    p.add_argument(
        "--threshold",
        type=int,
        default=24,
        metavar="N",
        help="elide values of more than N numbers (default: 24)",
    )
    p.add_argument(
        "--form",
        default="mean",
        metavar="{mean,lecture}",
        help="mean (default): derivatives of the mean cost, as mlplab trains; lecture: the "
        "manual-backprop slide's sums (sigmoid/bce output, plain sgd)",
    )
    _setting_flags(p, multi=False, hidden=NOT_IN_A_TRACE)

    p = add("datasets", "list the built-in datasets", _cmd_datasets)
    p.add_argument(
        "--names", action="store_true", help="print only their names, one a line (for scripts)"
    )

    p = add(
        "predict",
        "predict new rows with a trained run (its preprocessing and class names)",
        _cmd_predict,
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run's folder (log_path/exp_name/RUN)")
    p.add_argument(
        "--data",
        required=True,
        metavar="FILE",
        help="rows (.csv, .tsv, .txt, .parquet or .npz) with the run's feature columns (others "
        "are ignored); "
        "- reads CSV rows from standard input",
    )
    p.add_argument(
        "--out",
        metavar="FILE.csv",
        help="write the predictions here (.tsv or .tab: a tab between values; .gz, .bz2, "
        ".xz or .zip after the name: compressed); - prints them, as leaving it out does "
        "(default)",
    )
    p.add_argument(
        "--keep",
        nargs="+",
        metavar="COLUMN",
        help="columns of the data file to copy into the output as written, beside those the "
        "run ignored (an id to join the predictions back by, or the true target to compare; "
        "where a prediction is named as one, each prediction column is predicted_NAME)",
    )
    p.add_argument(
        "--checkpoint",
        choices=("last", "best"),
        default=None,  # the last; left out, a run that stopped early names its best
        help="the model to predict with: the run's last (default; an estimator's run "
        "fitted with patience: its best, as the estimator predicts) or its best, of the "
        "lowest validation loss",
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print nothing but the predictions and errors (no notes, no count)",
    )

    p = add(
        "plot",
        "redraw a run's plots from its record (no retraining), or draw the activation functions",
        _cmd_plot,
        epilog="A regression run's pictures include pred_vs_true and residuals (true - "
        "predicted against predicted, on the test rows, or the validation rows without "
        "them; a panel per target). The network and units pictures are drawn for models "
        "whose layers have at most 10 units (units: 2-feature data, 1 to 6 hidden layers); "
        "for wider models, mlplab.backprop gives each layer's gradients and to_torch() its "
        "activations.",
    )
    p.add_argument(
        "target",
        nargs="?",
        metavar="RUN_DIR|activations",
        help="a run directory, or 'activations'",
    )
    p.add_argument(  # the form people guess, as a switch
        "--activations",
        action="store_true",
        help="draw the activation functions and their derivatives (as the target 'activations')",
    )
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="output folder (default: RUN_DIR/plots, RUN_DIR/plots-best with --checkpoint "
        "best, or ./plots for activations); for activations, one picture, a name ending "
        ".png or .svg writes that file",
    )
    p.add_argument(
        "--format",
        choices=("png", "svg"),
        help="image format (default: the run's own, its plots setting; png for activations)",
    )
    p.add_argument(
        "--checkpoint",
        choices=("last", "best"),
        default="last",
        help="the model to draw: the run's last (default, as training drew it) or its best, "
        "of the lowest validation loss, titled with its own test metrics",
    )
    return parser


def _quiet_idle_blas() -> None:
    """Let OpenBLAS's idle threads sleep at once rather than spin for 0.1 s.

    Loading NumPy starts OpenBLAS's thread pool, whose threads then busy-wait for
    2^28 cycles (about 0.1 s) before sleeping, and they do again after every threaded
    product. On a lab run that is a core kept busy for nothing, which slows the sweep
    workers that need it (by about 14% on a 2-core machine). 2^20
    cycles (under a millisecond) still keeps the threads awake between the products of
    a large model's step. Only when NumPy is not loaded yet, and the user has not set it.
    """
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "20")


def run() -> None:
    """The ``mlplab`` command: :func:`main`, then exit with its status."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # A job a script starts with `&` inherits Ctrl-C ignored. Taken back here, first:
        # taken back only once a run or sweep began, a Ctrl-C to the job's group in its
        # first second (imports, the data) was dropped, and the run trained on to exit 0.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    _replace_what_cannot_be_printed()
    _matplotlib_dirs_writable()
    code = main()
    # The command's work is done and its status decided: a Ctrl-C now (pressed again
    # after a stop, or just as a run finished) ended the process by SIGINT while Python
    # shut down (status -2 to its parent). Ignored, not handled: Python puts back the
    # default for a handler of its own as it finalizes, where a worker pool's join can
    # take a second (a handler that exited at once was killed by SIGINT all the same).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if code == EXIT_FOR_SIGINT:
        # Stopped by Ctrl-C: end by SIGINT itself, once Python has shut down, as Python
        # does for an uncaught KeyboardInterrupt. A shell runs on after a child that merely
        # exits 130 (it took the child to have handled the Ctrl-C), so a script's loop of
        # runs went on to its next run; one killed by SIGINT stops the script too. The
        # status is still 130 to the shell (-2 in Python's subprocess).
        sys.excepthook = _quiet_for_interrupt
        raise KeyboardInterrupt
    raise SystemExit(code)


EXIT_FOR_SIGINT = 130


def _quiet_for_interrupt(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    """sys.excepthook for the KeyboardInterrupt that :func:`run` raises: the command has
    said why it stopped; no traceback."""
    if not issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)


def _matplotlib_dirs_writable() -> None:
    """Where HOME cannot be written (a course's shared account, a container), matplotlib
    warned in two lines that it made a temporary folder, in each sweep worker and with
    -q, and built its font cache anew in each. A folder of this user's own under the
    temporary folder takes its place (MPLCONFIGDIR, which the workers inherit), kept
    between commands so that the cache is built once."""
    if "MPLCONFIGDIR" in os.environ:
        return
    try:  # matplotlib's own places, as it finds them
        home = Path.home()
        wanted = [
            Path(os.environ.get(var) or home / sub) / "matplotlib"
            for var, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_CACHE_HOME", ".cache"))
        ]
        for folder in wanted:
            # It, or the nearest folder above it that exists, writable: nothing is made.
            while not folder.exists() and folder != folder.parent:
                folder = folder.parent
            if not os.access(folder, os.W_OK):
                raise PermissionError
        return
    except (OSError, RuntimeError):  # RuntimeError: no home folder known at all
        pass
    own = Path(tempfile.gettempdir()) / f"mlplab-matplotlib-{os.getuid()}"
    with contextlib.suppress(OSError):
        own.mkdir(mode=0o700, exist_ok=True)
        info = own.lstat()
        # Not a link or another user's folder planted under that name.
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
            os.environ["MPLCONFIGDIR"] = str(own)


def _replace_what_cannot_be_printed() -> None:
    """On a standard output whose encoding is not UTF-8 (an ASCII or latin-1 locale), a
    character it lacks (a table's ─, ±, ²) prints as '?': it was a traceback, after the
    run had trained. (Standard error already writes such a character as a backslash
    escape; the predictions' CSV is written as UTF-8 bytes, see :mod:`mlplab.predict`.)"""
    from mlplab.pipes import writes_utf8

    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None and not writes_utf8(sys.stdout):
        with contextlib.suppress(ValueError, TypeError, OSError):
            reconfigure(errors="replace")


def main(argv: Sequence[str] | None = None) -> int:
    from mlplab.pipes import closed_pipe_safe

    _quiet_idle_blas()
    # `mlplab train ... | head`: a reader that goes away silences the output; the run
    # itself goes on to the end and keeps its whole record.
    shown = warnings.showwarning
    warnings.showwarning = one_line_warning
    with closed_pipe_safe():
        try:
            return _main(argv)
        except KeyboardInterrupt as cut:  # Ctrl-C before a run takes over: the imports too
            code = getattr(cut, "exit_code", None)  # runner.StoppedBeforeStart: SIGTERM too
            if isinstance(code, int):
                print(f"mlplab: {cut}", file=sys.stderr)
                return code
            print("mlplab: interrupted", file=sys.stderr)
            return 130
        except SystemExit as done:  # argparse's: --help, --version, an unknown flag
            # An exit status, as every other outcome of main() is: called in-process (a
            # test, a script), an unknown flag raised where a bad value returned 2.
            code = done.code
            if code is None or isinstance(code, int):
                return _help_printed(code or 0)
            raise
        finally:
            warnings.showwarning = shown  # main() called in-process leaves Python's as it was


def _each_flag_once(parser: argparse.ArgumentParser, words: Sequence[str]) -> None:
    """Refuse a flag that takes values given twice: argparse keeps the last, so the first
    was lost without a word (a sweep's axis value, a config file of two)."""
    after = list(words)
    while after and after[0].startswith("-"):  # mlplab's own flags, before the command
        after.pop(0)
    values: dict[argparse.Action, list[str]] = {}
    for i, word in enumerate(after[1:], start=2):
        if word == "--":  # what follows is values, even if it starts with --
            return
        action = _flag_action(parser, word)
        if action is None or action.nargs == 0:  # a switch given twice loses nothing
            continue
        given = [word.split("=", 1)[1]] if "=" in word else _values_after(after[i:])
        if action in values:
            parser.error(_twice(parser.prog, action, values[action] + given))
        values[action] = given


def _twice(prog: str, action: argparse.Action, values: list[str]) -> str:
    """What to do about a flag given twice, in the terms of the subcommand."""
    from mlplab.config import Config
    from mlplab.errors import shorten

    flag = action.option_strings[-1]
    head = f"{flag} given twice"
    if action.dest == "config":
        return f"{head}; give one config file"
    if action.dest not in Config.model_fields:
        return f"{head}; give it once"
    if prog.endswith(" sweep") and getattr(action, "one_value", False):
        return f"{head}; a sweep takes one value of it"
    if prog.endswith(" sweep"):
        axis = shorten(" ".join([flag, *values]), 80)
        return f"{head}; give its values once ({axis} makes a sweep axis)"
    if prog.endswith(" train"):
        return f"{head}; {ONE_VALUE}"
    return f"{head}; give it once"


def _flag_action(parser: argparse.ArgumentParser, word: str) -> argparse.Action | None:
    """The option ``word`` names (``--lr``, ``--lr=0.1``, or a prefix argparse accepts)."""
    if not word.startswith("--") or word == "--":
        return None
    name = word.split("=", 1)[0]
    options = parser._option_string_actions
    if name in options:
        return options[name]
    found = {a for s, a in options.items() if s.startswith(name)}
    return found.pop() if len(found) == 1 else None


def _values_after(words: Sequence[str]) -> list[str]:
    """The values that follow a flag: the words up to the next flag."""
    values: list[str] = []
    for word in words:
        if word.startswith("-") and not word[1:2].isdigit() and word[1:2] != ".":
            break
        values.append(word)
    return values


# What each path argument names, per command: an empty one is refused, as `Path("")` is
# the current folder (`--resume ""` trained a new run, `report ""` wrote into "." ).
CONFIG_FILE = "a YAML file, e.g. examples/xor_nn.yaml"
PATH_ARGUMENTS: dict[str, dict[str, tuple[str, str]]] = {
    "train": {
        "config_file": ("FILE.yaml", CONFIG_FILE),
        "config": ("--config", CONFIG_FILE),
        "resume": ("--resume", RUN_FOLDER),
    },
    "sweep": {"config_file": ("FILE.yaml", CONFIG_FILE), "config": ("--config", CONFIG_FILE)},
    "gradcheck": {"config_file": ("FILE.yaml", CONFIG_FILE), "config": ("--config", CONFIG_FILE)},
    "backprop": {
        "config_file": ("FILE.yaml", CONFIG_FILE),
        "config": ("--config", CONFIG_FILE),
        "resume": ("--resume", RUN_FOLDER),
    },
    "report": {
        "log_path": ("LOG_PATH", "a folder of runs, e.g. runs"),
        "out": ("--out", "a folder, e.g. report"),
    },
    "predict": {
        "run_dir": ("RUN_DIR", RUN_FOLDER),
        "data": ("--data", "a data file, e.g. new_rows.csv"),
        "out": ("--out", "a file, e.g. preds.csv"),
    },
    "plot": {
        "target": ("RUN_DIR", f"{RUN_FOLDER}, or 'activations'"),
        "out": ("--out", "a folder, e.g. plots"),
    },
}


def _check_paths(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse an empty path: read as the current folder, it did what no one asked. Expand
    ``~`` and ``$NAME`` where the shell did not (``--out=~/r``, a quoted value)."""
    from mlplab.errors import expanded_path, unexpanded_output

    for dest, (name, what) in PATH_ARGUMENTS.get(getattr(args, "command", None) or "", {}).items():
        value = getattr(args, dest, None)
        if isinstance(value, str) and not value.strip():  # '' or a quoted blank
            kind = "an empty" if value == "" else "a blank"
            parser.error(
                f"{name} {value!r} is {kind} path (read as the current folder); give {what}"
            )
        if isinstance(value, str) and value != "-":  # predict's standard input and output
            setattr(args, dest, expanded_path(value))
            if dest == "out" and (why := unexpanded_output(getattr(args, dest))):
                parser.error(f"{name} {value!r}: {why}")


# OS errors that come from a path the user gave, not from the machine.
_INPUT_ERRNOS = frozenset(
    {
        errno.ENAMETOOLONG,
        errno.ENOENT,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.EACCES,
        errno.EPERM,
        errno.ELOOP,
        errno.EROFS,
        errno.EEXIST,
    }
)


def _os_error_line(err: OSError) -> str:
    from mlplab.errors import one_line, short_repr

    where = f" ({short_repr(err.filename)})" if err.filename is not None else ""
    return one_line(f"{err.strerror or type(err).__name__}{where}")


def _value_of(flag: str, words: Sequence[str]) -> str:
    """The value given to ``flag`` among the command's ``words`` (``--flag x`` or
    ``--flag=x``), or "" where it has none."""
    for i, word in enumerate(words):
        if word == flag and i + 1 < len(words):
            return words[i + 1]
        if word.startswith(f"{flag}="):
            return word.split("=", 1)[1]
    return ""


def _setting_as_assignment(word: str, parser: argparse.ArgumentParser) -> bool:
    """Whether ``word`` is a setting written as Python or Hydra write one (``lr=0.5``)."""
    name, eq, _ = word.partition("=")
    return bool(eq) and name.isidentifier() and f"--{name}" in parser._option_string_actions


def _assignment_message(word: str) -> str:
    name, _, value = word.partition("=")
    return f"{word!r}: a setting is a flag and its value: --{name} {shlex.quote(value)}"


# Dashes that slides, PDFs and word processors print for the two hyphens of a flag.
_PASTED_DASHES = {"\u2013": "an en dash", "\u2014": "an em dash", "\u2212": "a minus sign"}


def _no_pasted_dashes(owner: argparse.ArgumentParser, words: Sequence[str]) -> None:
    """Refuse a flag typed with a dash that is not a hyphen (`–lr 0.5` pasted from a
    slide): argparse took it for the config file's name, and named the next word."""
    for word in words:
        head = word[: len(word) - len(word.lstrip("-" + "".join(_PASTED_DASHES)))]
        pasted = [c for c in head if c in _PASTED_DASHES]
        flag = "--" + word[len(head) :].split("=")[0]
        # A value may begin so (--model_name –draft): a flag of the command is what tells.
        if pasted and flag in owner._option_string_actions:
            owner.error(
                f"{word!r} begins with {_PASTED_DASHES[pasted[0]]} ({pasted[0]}), as slides and "
                f"PDFs print a flag's two hyphens: type --{word[len(head) :]}"
            )


def _leaves_files(args: argparse.Namespace) -> bool:
    """Whether the command's work is files (a run's record, a report, pictures, predictions
    written to --out): with a full standard output it goes on, and its console output is
    dropped with a note; a command that only prints fails instead."""
    if args.command == "predict":
        return args.out not in (None, "-")
    printing = getattr(args, "print_config", False) or getattr(args, "print_run_dir", False)
    return args.command in ("train", "sweep", "report", "plot") and not printing


def _help_printed(code: int) -> int:
    """The status of --help or --version: 1, not 0, where standard output could not take
    the text (`mlplab --help > /dev/full`), as for any command whose printout is its work."""
    from mlplab.pipes import lost_output

    lost = lost_output() if code == 0 else None
    if lost is None:
        return code
    print(
        f"mlplab: standard output could not be written ({lost.strerror or lost}); the help "
        "or version text is lost",
        file=sys.stderr,
    )
    return 1


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    words = sys.argv[1:] if argv is None else argv
    args.flags_typed = [w[2:].split("=")[0] for w in words if w.startswith("--")]
    owner = args.commands.get(getattr(args, "command", None) or "", parser)
    _no_pasted_dashes(owner, words)
    if extra:
        # Report unknown flags from the subcommand's parser, which knows its own flags.
        owner.error(f"unrecognized arguments: {' '.join(extra)}")
    _each_flag_once(owner, words)
    _check_paths(owner, args)
    if not getattr(args, "handler", None):
        # No command is a mistake, as a missing setting is: a script that runs `mlplab $CMD`
        # with an empty CMD must fail, with one line that names the choices.
        print(
            f"mlplab: give a command: {', '.join(args.commands)} (mlplab --help says what "
            "each does)",
            file=sys.stderr,
        )
        return 2
    from mlplab.errors import MlplabError
    from mlplab.pipes import lost_output

    prints = not _leaves_files(args) and args.command != "predict"  # predict says its own
    if prints and getattr(sys.stdout, "closed_at_start", False):
        # `mlplab datasets >&-`: its printout is all it does, and it would be lost.
        print(
            f"mlplab: standard output is closed, and what mlplab {args.command} prints is "
            "its output; give it a file (> FILE) or a pipe",
            file=sys.stderr,
        )
        return 1
    if getattr(args, "no_progress", False):
        # An environment variable, so that a sweep's worker processes see it too; put back
        # after, for main() called in-process.
        progress = os.environ.get("MLPLAB_NO_PROGRESS")
        os.environ["MLPLAB_NO_PROGRESS"] = "1"
    try:
        code = int(args.handler(args) or 0)
        lost = None if _leaves_files(args) else lost_output()
        if lost is not None:  # `mlplab datasets > /dev/full`: what it was run for is lost
            print(
                f"mlplab: standard output could not be written ({lost.strerror or lost}); "
                f"the output of mlplab {args.command} is lost",
                file=sys.stderr,
            )
            return max(code, 1)
        return code
    except MlplabError as err:
        print(f"mlplab: {err}", file=sys.stderr)
        return err.exit_code
    except MemoryError:
        # A report of many runs, or matplotlib's import, under a memory limit (`ulimit -v`,
        # a batch job's): a traceback ending in MemoryError said no more than this.
        less = {"report": ", or less to do (a report of one --exp_name)"}.get(args.command, "")
        print(
            f"mlplab: {args.command} ran out of memory; give it more (a batch job's memory "
            f"request, `ulimit -v`){less}",
            file=sys.stderr,
        )
        return 1
    except OSError as err:
        # The OS refused a path the user gave (too long, a file in the way, no access):
        # one line naming it. Other OS failures (I/O errors) are not the input: exit 1.
        print(f"mlplab: {_os_error_line(err)}{_sweep_goes_on(args, err)}", file=sys.stderr)
        return 2 if err.errno in _INPUT_ERRNOS else 1
    finally:
        if getattr(args, "no_progress", False):
            if progress is None:
                os.environ.pop("MLPLAB_NO_PROGRESS", None)
            else:
                os.environ["MLPLAB_NO_PROGRESS"] = progress


# A machine's limits that a sweep's own process met (its records, its spec, its workers'
# pipes): not the input, and each run is kept as far as it got.
_LIMIT_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EMFILE, errno.ENFILE}
# A folder made read-only while the sweep ran (its start checks that it can write).
_ACCESS_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS}


def _sweep_goes_on(args: argparse.Namespace | None, err: OSError) -> str:
    """What a sweep stopped by a full disk, too few open files or a folder it may no longer
    write says of what comes next: the bare errno line gave no state and no next step."""
    if getattr(args, "command", None) != "sweep" or err.errno not in _LIMIT_ERRNOS | _ACCESS_ERRNOS:
        return ""
    files = err.errno in (errno.EMFILE, errno.ENFILE)
    # A worker's Python that this user may not run (a shared lab's, under another's home).
    where = Path(str(err.filename or ""))
    python = where.name.startswith("python") and where.parent.name == "bin"
    fix = (
        " (raise `ulimit -n`, or give --workers 1)"
        if files
        else " (a Python workers can run, or --workers 1)"
        if python
        else " (the folder writable again)"
        if err.errno in _ACCESS_ERRNOS
        else f" ({limit_met(err)})"
        if limit_met(err)
        else ""
    )
    return (
        f"; the sweep stopped: once that is mended{fix}, the same command continues its "
        "runs from their checkpoints and trains the rest"
    )


if __name__ == "__main__":
    raise SystemExit(main())
