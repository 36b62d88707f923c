"""What the arrays of an .npz file take once unpacked, read from their headers.

An .npz file is a zip of .npy members: a few KB of deflated zeros can unpack into
gigabytes. The header of each .npy member gives its shape and dtype before its data, so
the cost of reading a file is known, and can be refused, before anything is unpacked.
"""

from __future__ import annotations

import zipfile

import numpy as np

# The longest .npy header read: NumPy's own limit (np.lib.format's max_header_size).
_MAX_HEADER = 10_000


def member_header(zf: zipfile.ZipFile, member: str) -> tuple[tuple[int, ...], np.dtype] | None:
    """The shape and dtype that the .npy member ``member`` of ``zf`` declares; None where
    it has no header read this way (damaged, not an array, or a header version newer
    than 2.0)."""
    fmt = np.lib.format
    try:
        with zf.open(member) as f:
            version = fmt.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = fmt.read_array_header_1_0(f, max_header_size=_MAX_HEADER)
            elif version == (2, 0):
                shape, _, dtype = fmt.read_array_header_2_0(f, max_header_size=_MAX_HEADER)
            else:
                return None
    except (KeyError, ValueError, OSError, EOFError, RuntimeError, zipfile.BadZipFile):
        return None  # RuntimeError: a member marked encrypted
    if any(int(d) < 0 for d in shape):  # no array has one; summed, it would hide a bomb
        return None
    return tuple(int(d) for d in shape), dtype


def unpacked_bytes(zf: zipfile.ZipFile) -> int:
    """The bytes that reading every member of the .npz file ``zf`` takes: each array's
    element count times its item size (at least 1: an array of empty strings still
    counts its elements), as its header declares; any other member's size as the zip
    lists it (``np.load`` reads such a member as bytes).

    Raises ValueError where an array's header cannot be read, or declares Python
    objects (which are not read from files).
    """
    total = 0
    for info in zf.infolist():
        try:
            with zf.open(info) as f:
                is_array = f.read(len(np.lib.format.MAGIC_PREFIX)) == np.lib.format.MAGIC_PREFIX
        except RuntimeError:  # marked encrypted: mlplab writes no such member
            raise ValueError(f"member {info.filename!r} is encrypted") from None
        if not is_array:
            total += info.file_size
            continue
        header = member_header(zf, info.filename)
        if header is None:
            raise ValueError(f"array {info.filename!r} has a header that is not read")
        shape, dtype = header
        if dtype.hasobject:
            raise ValueError(f"array {info.filename!r} holds Python objects")
        count = 1
        for d in shape:
            count *= d
        total += count * max(dtype.itemsize, 1)
    return total
