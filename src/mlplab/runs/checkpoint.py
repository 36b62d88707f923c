"""Checkpoints that describe themselves and cannot run code.

One checkpoint is one ``.safetensors`` file: the model's weights, the optimizer's
arrays and the RNG states are tensors; everything else (the config, the model spec, the
loop's counters, the optimizer's scalars, and ``curves``: how many points of the run's
curves.npz the loop had, with their SHA-256) is JSON in the file's metadata header.
safetensors never unpickles, so a crafted file cannot execute anything, and one atomic
rename replaces the whole checkpoint at once.

With the JSON alone a model can be rebuilt (``ModelSpec`` + config), as nanoGPT's
checkpoints carry ``model_args`` and ``config``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from mlplab import __version__
from mlplab.config import PLAYGROUND_FEATURES
from mlplab.data.dataset import label_kind_fits
from mlplab.errors import CheckpointError, NewerRecord, short_repr
from mlplab.runs.atomic import atomic_write_stream, json_default

FORMAT = "mlplab-checkpoint-1"
SECTIONS = ("model", "optim", "rng")
# safetensors itself refuses headers over 100 MB; the metadata is part of the header.
MAX_META_BYTES = 100_000_000
# The metadata is a few levels deep (loop -> history -> curves); crafted JSON nested
# 50,000 levels would otherwise end in a RecursionError.
MAX_META_DEPTH = 16
# The keys a training run's checkpoint holds (an estimator's holds fewer).
RUN_META_KEYS = (
    "config",
    "spec",
    "engine",
    "loop",
    "order_rng_now",
    "optim",
    "rng",
    "elapsed_s",
    "task",
    "feature_names",
    "target_names",
)
TASKS = ("binary", "multiclass", "regression")
ENGINES = ("numpy", "torch")
LOOP_COUNTERS = ("epoch", "step", "batch_in_epoch", "epoch_rows", "bad_validations")
LOOP_SUMS = ("epoch_loss_sum", "epoch_metric_sum", "last_epoch_loss")
CURVES = ("train_losses", "val_losses", "train_metrics", "val_metrics", "lrs")


@dataclass
class Checkpoint:
    """Arrays by section (``model``, ``optim``, ``rng``) plus JSON metadata."""

    model: dict[str, np.ndarray]
    meta: dict[str, Any]
    optim: dict[str, np.ndarray] = field(default_factory=dict)
    rng: dict[str, np.ndarray] = field(default_factory=dict)


def save_checkpoint(path: str | os.PathLike[str], ckpt: Checkpoint) -> None:
    """Write ``ckpt`` to ``path`` atomically (temp file, fsync, rename), in the safetensors
    format, array by array (see :func:`write_safetensors`)."""
    tensors: dict[str, np.ndarray] = {}
    for section in SECTIONS:
        for k, v in getattr(ckpt, section).items():
            a = np.ascontiguousarray(v)
            if a.dtype.name not in SAFETENSORS_DTYPES:
                raise ValueError(f"checkpoint array {section}/{k}: safetensors holds no {a.dtype}")
            # Little-endian, as the file holds it: the checksum is of the bytes written.
            tensors[f"{section}/{k}"] = a.astype(a.dtype.newbyteorder("<"), copy=False)
    meta_json = json.dumps(ckpt.meta, default=json_default)
    header = {"format": FORMAT, "meta": meta_json, "sha256": _digest(meta_json, tensors)}
    atomic_write_stream(path, lambda f: write_safetensors(f, tensors, header), durable=True)


# NumPy's dtypes by safetensors' names for them.
SAFETENSORS_DTYPES = {
    "bool": "BOOL", "uint8": "U8", "int8": "I8", "uint16": "U16", "int16": "I16",
    "float16": "F16", "uint32": "U32", "int32": "I32", "float32": "F32", "uint64": "U64",
    "int64": "I64", "float64": "F64",
}  # fmt: skip


def write_safetensors(
    f: IO[bytes], tensors: dict[str, np.ndarray], metadata: dict[str, str]
) -> None:
    """The safetensors format into ``f``: the header's length (8 bytes, little-endian), its
    JSON (padded with spaces to 8 bytes), then each array's bytes, where its
    ``data_offsets`` say; safetensors reads it back and checks all of that.

    Written here, array by array from the arrays' own memory: the library's ``save`` built
    the whole file in memory first (a model near the memory limit ran out there, and the
    library panicked with pages of Rust and Python tracebacks), and its ``save_file``
    writes through a temporary file of its own, private to its owner and not synced.
    """
    header: dict[str, Any] = {"__metadata__": metadata}
    arrays, offset = [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)  # safetensors is little-endian
        header[name] = {
            "dtype": SAFETENSORS_DTYPES[a.dtype.name],
            "shape": list(a.shape),
            "data_offsets": [offset, offset + a.nbytes],
        }
        arrays.append(a)
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    f.write(len(text).to_bytes(8, "little"))
    f.write(text)
    for a in arrays:
        f.write(a.reshape(-1).view(np.uint8).data)


# The classes whose save() writes a checkpoint file (mlplab.sklearn).
ESTIMATORS = ("MLPClassifier", "MLPRegressor")


def saved_estimator_class(path: Path) -> str | None:
    """The estimator class (``MLPClassifier``) whose :meth:`save` wrote the file ``path``,
    or None where it is no such file: a run's loaders name the estimator's ``load``."""
    if path.suffix.lower() != ".safetensors" or not path.is_file():
        return None
    try:  # MLPClassifier.save writes one file, a checkpoint that names its class.
        estimator = load_checkpoint(path).meta.get("estimator")
    except CheckpointError:
        return None
    if isinstance(estimator, dict) and estimator.get("class") in ESTIMATORS:
        return str(estimator["class"])
    return None


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint; anything unreadable becomes a one-line CheckpointError.

    Nothing in the file is ever executed: safetensors parses a JSON header and raw
    arrays. A SHA-256 over the metadata and every array catches flipped bytes in the
    body, which the format itself cannot notice.
    """
    from safetensors.numpy import load

    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"checkpoint {str(p)!r} does not exist")
    try:
        raw = p.read_bytes()
        tensors = load(raw)
        header_meta = _read_metadata(raw)
    except Exception as err:  # untrusted bytes: whatever the parser raises is "unreadable"
        reason = str(err).splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"checkpoint {str(p)!r} is not a readable mlplab checkpoint ({reason})"
        ) from None
    given = header_meta.get("format")
    newer = re.fullmatch(r"mlplab-checkpoint-(\d{1,9})", given) if isinstance(given, str) else None
    if newer and int(newer.group(1)) > int(FORMAT.rsplit("-", 1)[1]):
        # A newer mlplab's: not "no mlplab checkpoint", whose advice (--rerun) replaced
        # it with this version's run.
        raise NewerRecord(
            f"checkpoint {str(p)!r} is of format {given!r}, which a newer mlplab writes "
            f"(this mlplab {__version__} reads {FORMAT!r}): upgrade mlplab to use it; the "
            "run is left as it is"
        )
    if given != FORMAT:
        raise CheckpointError(
            f"checkpoint {str(p)!r} is not an mlplab checkpoint (format {header_meta.get('format')!r})"
        )
    meta_json = header_meta.get("meta")
    if isinstance(meta_json, str) and len(meta_json) > MAX_META_BYTES:
        raise CheckpointError(
            f"checkpoint {str(p)!r} has a metadata header over {MAX_META_BYTES:,} bytes"
        )
    try:
        meta = json.loads(meta_json) if isinstance(meta_json, str) else None
    except (ValueError, RecursionError):  # RecursionError: brackets nested thousands deep
        meta = None
    if not isinstance(meta, dict):
        raise CheckpointError(f"checkpoint {str(p)!r} has a corrupted metadata header")
    if set(header_meta) - {"format", "meta", "sha256"}:
        # A flipped letter of "sha256" had made the checksum look absent (as in a
        # checkpoint written before there was one), and the damage went unseen.
        raise CheckpointError(f"checkpoint {str(p)!r} has a corrupted metadata header")
    expected = header_meta.get("sha256")
    if expected is not None and expected != _digest(meta_json, tensors):  # type: ignore[arg-type]
        raise CheckpointError(
            f"checkpoint {str(p)!r} is corrupted (its checksum does not match its contents)"
        )
    # The checksum says the file is whole, not who wrote it: every field is input.
    check_meta(meta, f"checkpoint {str(p)!r}")
    sections: dict[str, dict[str, np.ndarray]] = {s: {} for s in SECTIONS}
    for key, arr in tensors.items():
        section, _, name = key.partition("/")
        if section in sections:
            sections[section][name] = arr
    return Checkpoint(
        model=sections["model"], meta=meta, optim=sections["optim"], rng=sections["rng"]
    )


def check_run_meta(meta: Any, where: str) -> None:
    """Check the metadata of a training run's checkpoint before a resume uses it.

    As :func:`check_meta`, and every key of ``RUN_META_KEYS`` must be present.
    ``where`` starts the message (e.g. ``checkpoint 'runs/exp/exp-3fa2b1/...'``).
    """
    check_meta(meta, where)
    missing = [k for k in RUN_META_KEYS if k not in meta]
    if missing:
        raise CheckpointError(f"{where} is not a run's checkpoint (no {missing[0]!r} in it)")


def check_meta(meta: Any, where: str) -> None:
    """Check the type and range of every known field of checkpoint metadata.

    Fields may be absent (an estimator's checkpoint, an older version); those present
    must be what mlplab writes. A checkpoint is input: its SHA-256 proves that it is
    whole, not that mlplab wrote it, so a crafted ``loop.epoch = 10**6``, ``-5`` or
    ``"abc"``, or ``elapsed_s = "nan"``, is refused here with one line instead of
    failing later or putting NaN into result.json.

    Raises
    ------
    mlplab.errors.CheckpointError
    """

    def bad(field: str, why: str, value: Any) -> CheckpointError:
        return CheckpointError(
            f"{where} has an invalid {field!r} ({why}; got {short_repr(value, 60)})"
        )

    if not isinstance(meta, dict):
        raise CheckpointError(f"{where} has a corrupted metadata header (not an object)")
    if _depth(meta, MAX_META_DEPTH) > MAX_META_DEPTH:
        raise CheckpointError(f"{where} has metadata nested more than {MAX_META_DEPTH} levels")
    for key in ("config", "spec", "optim", "rng", "order_rng_now"):
        if key in meta and not isinstance(meta[key], dict):
            raise bad(key, "must be an object", meta[key])
    for key in ("global_rng",):
        if meta.get(key) is not None and not isinstance(meta[key], dict):
            raise bad(key, "must be an object or null", meta[key])
    if "engine" in meta and meta["engine"] not in ENGINES:
        raise bad("engine", f"must be one of {', '.join(ENGINES)}", meta["engine"])
    if "task" in meta and meta["task"] not in TASKS:
        raise bad("task", f"must be one of {', '.join(TASKS)}", meta["task"])
    # Any sign: an earlier mlplab timed runs on the wall clock, which a step back (an NTP
    # correction) made negative; such a run's model is whole, and its time counts as 0.
    if "elapsed_s" in meta and not _number(meta["elapsed_s"]):
        raise bad("elapsed_s", "must be a finite number of seconds", meta["elapsed_s"])
    for key in ("feature_names", "target_names", "class_names"):
        value = meta.get(key)
        if value is None and key == "class_names":
            continue
        if key in meta and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise bad(key, "must be a list of names", value)
    if "features" in meta and not (
        isinstance(meta["features"], list)
        and meta["features"]
        and all(f in PLAYGROUND_FEATURES for f in meta["features"])
        and len(set(meta["features"])) == len(meta["features"])
    ):
        raise bad(
            "features", f"must be a list of {', '.join(PLAYGROUND_FEATURES)}", meta["features"]
        )
    raw = meta.get("raw_feature_names")
    if "raw_feature_names" in meta and not (
        isinstance(raw, list) and len(raw) == 2 and all(isinstance(v, str) for v in raw)
    ):
        raise bad("raw_feature_names", "must be a list of 2 names", raw)
    if "label_kind" in meta and not label_kind_fits(
        meta["label_kind"], meta.get("class_names") or []
    ):
        raise bad(
            "label_kind",
            "must be one of number, bool, text, fitting class_names",
            meta["label_kind"],
        )
    for key in ("scaler", "target_scaler"):
        scaler = meta.get(key)
        if scaler is not None and not (
            isinstance(scaler, list)
            and len(scaler) == 2
            and all(isinstance(a, list) and all(_number(x) for x in a) for a in scaler)
            and (key == "scaler" or all(x > 0 for x in scaler[1]))  # a spread divides
        ):
            raise bad(key, "must be null or two lists of finite numbers", scaler)
    optim = meta.get("optim")
    if isinstance(optim, dict):
        if "step" in optim and not _count(optim["step"]):
            raise bad("optim.step", "must be a whole number >= 0", optim["step"])
        if "lr" in optim and not _number(optim["lr"], low=0.0):
            raise bad("optim.lr", "must be a finite number >= 0", optim["lr"])
    if "loop" in meta:
        _check_loop(meta["loop"], meta.get("config"), bad)


def _check_loop(loop: Any, config: Any, bad: Any) -> None:
    if not isinstance(loop, dict):
        raise bad("loop", "must be an object", loop)
    for key in LOOP_COUNTERS:
        if key in loop and not _count(loop[key]):
            raise bad(f"loop.{key}", "must be a whole number >= 0", loop[key])
    for key in LOOP_SUMS:
        if key in loop and not _number(loop[key]):
            raise bad(f"loop.{key}", "must be a finite number", loop[key])
    if "stopped_early" in loop and not isinstance(loop["stopped_early"], bool):
        raise bad("loop.stopped_early", "must be true or false", loop["stopped_early"])
    if loop.get("order_rng") is not None and not isinstance(loop["order_rng"], dict):
        raise bad("loop.order_rng", "must be an object or null", loop["order_rng"])
    epoch, step = loop.get("epoch", 0), loop.get("step", 0)
    planned = config.get("epoch") if isinstance(config, dict) else None
    if _count(planned) and epoch > planned:
        raise bad("loop.epoch", f"must be at most the run's {planned} epochs", epoch)
    if step < epoch:
        raise bad("loop.step", f"must be at least loop.epoch ({epoch})", step)
    history = loop.get("history")
    if history is None:
        return
    if not isinstance(history, dict):
        raise bad("loop.history", "must be an object", history)
    epochs = history.get("val_epochs", [])
    if not (isinstance(epochs, list) and all(_count(e) and e <= epoch for e in epochs)):
        raise bad("loop.history.val_epochs", f"must be epochs up to {epoch}", epochs)
    for key in CURVES:
        curve = history.get(key, [])
        if not (isinstance(curve, list) and all(_number(x, finite=False) for x in curve)):
            raise bad(f"loop.history.{key}", "must be a list of numbers", curve)
        if key in history and len(curve) != len(epochs):
            raise bad(f"loop.history.{key}", f"must have {len(epochs)} values", len(curve))
    best = history.get("best_val_loss", math.inf)
    if not _number(best, finite=False) or math.isnan(best):
        raise bad("loop.history.best_val_loss", "must be a number or Infinity", best)
    best_epoch = history.get("best_epoch", 0)
    if not (_count(best_epoch) and best_epoch <= epoch):
        raise bad("loop.history.best_epoch", f"must be an epoch up to {epoch}", best_epoch)


def _count(v: Any) -> bool:
    """A whole number in [0, 2**63): JSON's true/false and 1.5 are not counts."""
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63


def _number(v: Any, low: float | None = None, finite: bool = True) -> bool:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    if isinstance(v, int):
        v = float(v) if abs(v) < 2**1000 else math.inf
    if finite and not math.isfinite(v):
        return False
    return low is None or v >= low


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of lists and dicts in ``value``, counted up to ``limit + 1``."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict | list):
            deepest = max(deepest, d)
            if d > limit:
                return d
            items = v.values() if isinstance(v, dict) else v
            stack.extend((x, d + 1) for x in items if isinstance(x, dict | list))
    return deepest


def _digest(meta_json: str, tensors: dict[str, np.ndarray]) -> str:
    """SHA-256 over the metadata and every array's name, dtype, shape and bytes."""
    h = hashlib.sha256(meta_json.encode("utf-8"))
    for key in sorted(tensors):
        arr = np.ascontiguousarray(tensors[key])
        h.update(f"\0{key}\0{arr.dtype.str}\0{arr.shape}\0".encode())
        h.update(arr.data)  # its bytes in place: tobytes() copied each array
    return h.hexdigest()


def _read_metadata(raw: bytes) -> dict[str, str]:
    # The safetensors header: 8-byte little-endian length, then JSON with "__metadata__".
    if len(raw) < 8:
        raise ValueError("file too short")
    n = int.from_bytes(raw[:8], "little")
    if n <= 0 or 8 + n > len(raw):
        raise ValueError("bad header length")
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    if not isinstance(header, dict):
        raise ValueError("bad header")
    md = header.get("__metadata__") or {}
    if not isinstance(md, dict):
        raise ValueError("bad metadata")
    return md
