"""What a run would take in memory, estimated before anything is allocated.

A request such as ``--n_samples 10000000000000`` or ``--hid_dim 1000000000`` would
otherwise end in a MemoryError traceback after the machine has swapped for minutes. The
estimates here are lower bounds (the arrays a run cannot do without), so a run that is
refused could never have fitted, and one that fits is never refused. The limit is this
machine's memory: physical RAM, lowered by a cgroup limit (containers) or an rlimit.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import os
import re
from typing import TYPE_CHECKING

from mlplab.errors import ConfigError, MlplabError, OutOfMemory

if TYPE_CHECKING:
    from mlplab.config import Config

# Arrays per parameter besides the optimizer's, that a run holds at once: the weights,
# their gradients, the best model's copy, a checkpoint's byte buffer (safetensors builds
# the whole file in memory) and the engines' temporaries. Measured (peak RSS by
# /usr/bin/time -v, less that of a --hid_dim 2 run, over one copy's bytes) on xor with
# --hid_dim 5000000 (2e7 parameters), --batch_size 1, float32 and float64: sgd held 7.2-7.7
# copies on torch and 9.2-10.5 on numpy, 7.9-8.1 with record=False (no checkpoint); adam
# 10.9-15.2 and 11.1-18.5. 6 (8 with adam) stays below every one of them, so a refused
# run still could never have fitted; 4 let runs of twice the memory pass, to run out mid-run.
PARAM_COPIES = 6
# The optimizer's arrays per parameter (momentum, Adam's two moments, ...); indexed by the
# config's optim, whose every choice is a key (tests/core/test_config.py checks it).
OPTIM_SLOTS = {"sgd": 0, "rmsprop": 1, "adagrad": 1, "adam": 2, "adamw": 2}
# Each hidden unit of each row of a step keeps its pre-activation and its activation.
ACTIVATION_COPIES = 2
DTYPE_BYTES = {"float32": 4, "float64": 8}


@functools.cache
def memory_budget() -> int:
    """Bytes of memory this process can have: the smallest of RAM, cgroup and rlimits."""
    import resource

    limits: list[int] = []
    with contextlib.suppress(ValueError, OSError, AttributeError):
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    for path in _cgroup_limit_files():
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit():
            limits.append(int(text))
    for which in (resource.RLIMIT_AS, resource.RLIMIT_DATA):
        soft = resource.getrlimit(which)[0]
        if soft != resource.RLIM_INFINITY and soft > 0:
            limits.append(soft)
    return min(limits) if limits else 2**62


def _cgroup_limit_files(root: str = "/sys/fs/cgroup", proc: str = "/proc/self/cgroup") -> list[str]:
    """The memory-limit files of this process's cgroup and of each above it, v2 and v1:
    a batch scheduler's job (SLURM's job_42) sets its limit there, not at the root, which
    a container's namespace shows (the root's are kept too)."""
    files = [f"{root}/memory.max", f"{root}/memory/memory.limit_in_bytes"]
    try:
        with open(proc) as f:
            lines = f.read().splitlines()
    except OSError:
        return files
    for line in lines:
        if line.count(":") < 2:  # not a cgroup line: nothing to read from it
            continue
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # v2: 0::/system.slice/slurmstepd.scope/job_42/step_0
            base, name = root, "memory.max"
        elif "memory" in controllers.split(","):  # v1: 4:memory:/slurm/uid_1/job_42
            base, name = f"{root}/memory", "memory.limit_in_bytes"
        else:
            continue
        parts = [p for p in path.split("/") if p and p != ".."]
        files += [f"{base}/{'/'.join(parts[:i])}/{name}" for i in range(len(parts), 0, -1)]
    return files


def human_bytes(n: float) -> str:
    """``n`` bytes as ``12.3 GiB`` (B, KiB, MiB, GiB, TiB, PiB, EiB, then powers of ten)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.2e} EiB"


def check_data_size(what: str, n_rows: int, n_columns: int, itemsize: int = 8) -> None:
    """Refuse data of ``n_rows`` x ``n_columns`` values that cannot fit in memory.

    ``what`` names the setting or file at fault (``setting 'n_samples'``, ``data file
    'x.npz'``). The data is held at least twice while it is split (the whole and the
    splits), as float64 (``itemsize`` 8).
    """
    check_memory(what, 2 * n_rows * n_columns * itemsize, f"{n_rows:,} rows of {n_columns} values")


def check_memory(what: str, need: int, detail: str, error: type[MlplabError] = ConfigError) -> None:
    """Refuse ``need`` bytes for ``detail`` (a description) when the machine has fewer."""
    budget = memory_budget()
    if need > budget:
        raise error(
            f"{what}: {detail} would take at least {human_bytes(need)} of memory; "
            f"this process may have {human_bytes(budget)}"
        )


def n_params(cfg: Config, n_features: int, n_outputs: int) -> int:
    """Weights and biases of the model ``cfg`` describes, without building its layer list.

    ``n_layer`` may be as large as 2**63 - 1, so the widths are not materialized.
    """
    if cfg.hidden_layers == 0:
        return n_features * n_outputs + n_outputs
    if cfg.hid_dims is not None:
        widths = cfg.hidden_widths()  # bounded: hid_dims is at most 4095 characters
        dims = [n_features, *widths, n_outputs]
        return sum(a * b + b for a, b in itertools.pairwise(dims))
    h, layers = cfg.hid_dim, cfg.hidden_layers
    return (n_features * h + h) + (layers - 1) * (h * h + h) + (h * n_outputs + n_outputs)


def step_rows_and_units(cfg: Config, n_rows: int) -> tuple[int, int]:
    """Rows one step takes (the minibatch, or every row) and the model's hidden units."""
    rows = cfg.batch_size if 0 < cfg.batch_size < n_rows else n_rows
    units = (
        sum(cfg.hidden_widths()) if cfg.hid_dims is not None else cfg.hid_dim * cfg.hidden_layers
    )
    return rows, units


def check_cost(cfg: Config, n_features: int, n_rows: int, n_outputs: int = 1) -> None:
    """Refuse, with one line naming the setting, a run that cannot fit in memory.

    Parameters
    ----------
    cfg : Config
    n_features : int
        Inputs of the model.
    n_rows : int
        Training rows (a full-batch step takes all of them at once).
    n_outputs : int
        Outputs of the model (1 for binary and single-target regression).

    Raises
    ------
    mlplab.errors.ConfigError
        When the model's parameters with their gradients and optimizer state, or the
        hidden activations of one step, need more memory than this machine has.
    """
    budget = memory_budget()
    itemsize = DTYPE_BYTES.get(cfg.dtype, 8)
    params = n_params(cfg, n_features, n_outputs)
    copies = PARAM_COPIES + OPTIM_SLOTS[cfg.optim]
    need = params * itemsize * copies
    if need > budget:
        if cfg.hidden_layers == 0:
            names = "setting 'data'"
        elif cfg.hid_dims is not None:
            names = "setting 'hid_dims'"
        elif cfg.hidden_layers > 1:
            names = "settings 'hid_dim' and 'n_layer'"
        else:
            names = "setting 'hid_dim'"
        raise ConfigError(
            f"{names}: a model of {params:.3g} parameters ({cfg.label()}, "
            f"{n_features} input{'' if n_features == 1 else 's'}) would take at least {human_bytes(need)} of memory for its "
            f"weights, gradients and {cfg.optim} state; this process may have {human_bytes(budget)}"
        )
    if cfg.hidden_layers == 0:
        return
    rows, units = step_rows_and_units(cfg, n_rows)
    need = rows * units * itemsize * ACTIVATION_COPIES
    if need > budget:
        step = "a full-batch step" if rows == n_rows else f"a step of {rows:,} rows"
        half = max(1, math.floor(budget / max(1, units * itemsize * ACTIVATION_COPIES)))
        raise ConfigError(
            f"setting 'batch_size': {step} through {units:,} hidden units would take at least "
            f"{human_bytes(need)} of memory; this process may have {human_bytes(budget)} "
            f"(try --batch_size {min(half, 1024)})"
        )


# How NumPy and torch say the size they could not allocate: ``Unable to allocate 763. MiB
# for an array``, ``you tried to allocate 800000000 bytes``, ``Tried to allocate 2.00 GiB``.
_ASKED = re.compile(r"(?:tried to|unable to) allocate ([0-9.]+ ?(?:[KMGTPE]i?B|bytes))", re.I)


def is_out_of_memory(err: BaseException) -> bool:
    """Whether ``err`` says that memory ran out: a MemoryError (NumPy's), torch's CPU
    allocator (``DefaultCPUAllocator: can't allocate memory``, a RuntimeError) or a GPU's
    (``torch.cuda.OutOfMemoryError``, ``CUDA out of memory``). torch is not imported."""
    if isinstance(err, MemoryError):
        return True
    if any(k.__name__ == "OutOfMemoryError" for k in type(err).__mro__):
        return True
    if not isinstance(err, RuntimeError):
        return False
    text = str(err)
    return "can't allocate memory" in text or "out of memory" in text.lower()


def ran_out_of_memory(
    err: BaseException,
    cfg: Config,
    n_features: int,
    n_rows: int,
    n_outputs: int = 1,
    label: str | None = None,
) -> OutOfMemory:
    """One line for ``err`` (:func:`is_out_of_memory`) that says which settings of ``cfg``
    make the run smaller: the model's width and depth, the rows of a step, the dtype.
    ``label``: the model as the run's first line names it (``mlp 2-14000000-1``), where
    the caller knows its data's widths; else by its settings (``mlp 14000000x1``)."""
    if isinstance(err, OutOfMemory):
        return err
    text = str(err)
    gpu = any(w in text for w in ("CUDA", "GPU", "MPS", "HIP")) and not isinstance(err, MemoryError)
    asked = _ASKED.search(text)
    detail = f"a model of {n_params(cfg, n_features, n_outputs):.3g} parameters"
    if asked:
        size = asked.group(1).replace(". ", " ")  # NumPy writes "763. MiB"
        if size.endswith("bytes"):
            with contextlib.suppress(ValueError):
                size = human_bytes(float(size.split()[0]))
        detail += f"; it could not get {size} more"
    tries = []
    if cfg.hid_dims is not None:
        tries.append("smaller --hid_dims")
    elif cfg.hidden_layers > 1:
        tries.append("a smaller --hid_dim or --n_layer")
    elif cfg.hidden_layers == 1:
        tries.append("a smaller --hid_dim")
    # Fewer rows a step shrink the activations alone: where they are under a third of
    # what the weights, their gradients and the optimizer's arrays take with them, they
    # do not help (a 2,500,000-unit xor model was told to take batches of 2, then of 1,
    # and ran out each time).
    rows, units = step_rows_and_units(cfg, n_rows)
    # The arrays a run holds whatever its batch: weights, gradients, the optimizer's.
    weights = n_params(cfg, n_features, n_outputs) * (2 + OPTIM_SLOTS[cfg.optim])
    rows_matter = cfg.hidden_layers and rows * units * ACTIVATION_COPIES > weights / 2
    if rows_matter and (cfg.batch_size == 0 or cfg.batch_size >= n_rows) and n_rows > 1:
        tries.append(f"a --batch_size below {n_rows:,} (now a step takes every training row)")
    elif rows_matter and cfg.batch_size > 1:
        tries.append(f"a smaller --batch_size (now {cfg.batch_size:,})")
    if cfg.dtype == "float64":
        tries.append("--dtype float32")
    if OPTIM_SLOTS[cfg.optim]:
        tries.append(
            f"--optim sgd ({cfg.optim} keeps {OPTIM_SLOTS[cfg.optim]} more arrays per weight)"
        )
    if gpu:
        tries.append("--device cpu")
    advice = (
        f"try {', '.join(tries[:-1])} or {tries[-1]}" if len(tries) > 1
        else f"try {tries[0]}" if tries
        else "it needs more memory than this machine has"
    )  # fmt: skip
    where = "GPU memory" if gpu else "memory"
    return OutOfMemory(f"the run ran out of {where} ({label or cfg.label()}, {detail}); {advice}")
