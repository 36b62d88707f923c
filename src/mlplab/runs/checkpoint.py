"""Checkpoints that describe themselves and cannot run code.

One checkpoint is one ``.safetensors`` file: the model's weights, the optimizer's
arrays and the RNG states are tensors; everything else (the config, the model spec, the
loop's counters and curves, the optimizer's scalars) is JSON in the file's metadata
header. safetensors never unpickles, so a crafted file cannot execute anything, and one
atomic rename replaces the whole checkpoint at once.

With the JSON alone a model can be rebuilt (``ModelSpec`` + config), as nanoGPT's
checkpoints carry ``model_args`` and ``config``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.errors import CheckpointError
from mlplab.runs.atomic import atomic_write_bytes

FORMAT = "mlplab-checkpoint-1"
SECTIONS = ("model", "optim", "rng")


@dataclass
class Checkpoint:
    """Arrays by section (``model``, ``optim``, ``rng``) plus JSON metadata."""

    model: dict[str, np.ndarray]
    meta: dict[str, Any]
    optim: dict[str, np.ndarray] = field(default_factory=dict)
    rng: dict[str, np.ndarray] = field(default_factory=dict)


def save_checkpoint(path: str | os.PathLike[str], ckpt: Checkpoint) -> None:
    """Write ``ckpt`` to ``path`` atomically (temp file, fsync, rename)."""
    from safetensors.numpy import save

    tensors: dict[str, np.ndarray] = {}
    for section in SECTIONS:
        for k, v in getattr(ckpt, section).items():
            tensors[f"{section}/{k}"] = np.ascontiguousarray(v)
    meta_json = json.dumps(ckpt.meta, default=_default)
    header = {"format": FORMAT, "meta": meta_json, "sha256": _digest(meta_json, tensors)}
    atomic_write_bytes(path, save(tensors, metadata=header), durable=True)


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
    if header_meta.get("format") != FORMAT:
        raise CheckpointError(
            f"checkpoint {str(p)!r} is not an mlplab checkpoint (format {header_meta.get('format')!r})"
        )
    meta_json = header_meta.get("meta")
    try:
        meta = json.loads(meta_json) if isinstance(meta_json, str) else None
    except ValueError:
        meta = None
    if not isinstance(meta, dict):
        raise CheckpointError(f"checkpoint {str(p)!r} has a corrupted metadata header")
    expected = header_meta.get("sha256")
    if expected is not None and expected != _digest(meta_json, tensors):  # type: ignore[arg-type]
        raise CheckpointError(
            f"checkpoint {str(p)!r} is corrupted (its checksum does not match its contents)"
        )
    sections: dict[str, dict[str, np.ndarray]] = {s: {} for s in SECTIONS}
    for key, arr in tensors.items():
        section, _, name = key.partition("/")
        if section in sections:
            sections[section][name] = arr
    return Checkpoint(
        model=sections["model"], meta=meta, optim=sections["optim"], rng=sections["rng"]
    )


def _digest(meta_json: str, tensors: dict[str, np.ndarray]) -> str:
    """SHA-256 over the metadata and every array's name, dtype, shape and bytes."""
    h = hashlib.sha256(meta_json.encode("utf-8"))
    for key in sorted(tensors):
        arr = np.ascontiguousarray(tensors[key])
        h.update(f"\0{key}\0{arr.dtype.str}\0{arr.shape}\0".encode())
        h.update(arr.tobytes())
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


def _default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serializable: {type(o).__name__}")
