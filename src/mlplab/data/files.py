"""Tables from the user's files: CSV, Parquet and NPZ.

Every problem with a file becomes a :class:`DataError` with one line naming the file
(and the column, where one is at fault), before any run directory is made.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import os
import re
import stat
import sys
import unicodedata
import warnings
import zipfile
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from mlplab.data.cost import check_memory
from mlplab.data.npy import member_header
from mlplab.errors import DataError, install_hint, unexpanded_part, warnings_caught

FILE_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".parquet", ".pq", ".npz")
# Text tables: the separator is read off the file. (.tab: as `mlplab predict --out` writes.)
TEXT_SUFFIXES = (".csv", ".tsv", ".tab", ".txt")
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zip")  # named as such, not "unknown"
_FRACTION = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
# A number as spreadsheets write it where the decimal mark is a comma: 1.799.289,58 or -3,62
# (dots group the thousands, so 1.682 is 1682), or, in French, 2 164,80 (a no-break space,
# or a narrow one, groups them). A group of thousands never starts with 0: 0.125 is a dot
# decimal, not 125.
_GROUPS = "[.\u00a0\u202f]"
_COMMA_NUMBER = re.compile(rf"[+-]?([1-9]\d{{0,2}}({_GROUPS}\d{{3}})+|\d+)(,\d+)?([eE][+-]?\d+)?")


def looks_like_file(data: str) -> bool:
    suffix = Path(data).suffix.lower()
    return suffix in FILE_SUFFIXES + COMPRESSED_SUFFIXES or "/" in data or "\\" in data


def looked_here() -> str:
    """Where a relative data path that was not found was looked for, as a missing-file
    line says it (a record's own places say more: :func:`mlplab.restore`)."""
    return f" (a relative path: looked for in {os.getcwd()})"


def read_table(path: str, as_text: Collection[str] = ()):  # -> pandas.DataFrame
    """Read a CSV or Parquet file into a DataFrame; NPZ becomes columns x0..xN, y (or y0..yT).

    ``as_text``: columns of a text file kept as their text, cell for cell: the columns a run
    leaves out of its features (an id) that ``mlplab predict`` copies into its output, where
    ``00123`` read as a number would come back as ``123.0``, and ``NA`` as an empty cell.
    """
    import pandas as pd

    as_text = {column_name(n) for n in as_text}
    p = Path(path)
    try:
        is_file = p.is_file()  # raises in a folder it may not search (Python 3.11)
    except OSError as err:
        raise unreadable(path, err) from None
    if not is_file:
        what = "is not a file" if p.exists() else "does not exist"
        where = ""
        if p.is_symlink() and not p.exists():  # `ls` shows it: "does not exist" puzzled
            what = f"is a link to {os.readlink(p)!r}, which does not exist"
        elif not p.is_absolute() and not p.exists() and unexpanded_part(path) is None:
            # A config's `data: ../data/x.csv` is from the current folder, not the config's.
            where = looked_here()
        with contextlib.suppress(OSError):
            if stat.S_ISFIFO(p.stat().st_mode):  # `--data <(head -100 big.csv)`
                what = (
                    "is a pipe (as <(...) gives), not a file: save the rows to a file first "
                    "(mlplab predict reads CSV rows piped to it with --data -)"
                )
        if (part := unexpanded_part(path)) is not None:  # `$COURSE/data.csv`, COURSE unset
            what += f" ({part} is not set here)"
        raise DataError(f"data file {path!r} {what}", where)
    if str(path).endswith(("/", os.sep)):
        # `data.csv/` read as the file (pathlib drops the slash), under another run id.
        raise DataError(
            f"data file {path!r} ends with '/', which names a folder; give the file as "
            f"{str(path).rstrip('/' + os.sep)!r}"
        )
    suffix = p.suffix.lower()
    try:
        _check_not_compressed(p, path)
        _check_not_parquet(p, path)
        if suffix in TEXT_SUFFIXES:
            # skipinitialspace: "1.0, 2.0, yes" (a space after each comma, as people type
            # CSV) gives the class "yes" and the column "b", not " yes" and " b".
            header, first_row = _first_lines(p, path)
            sep = _separator(header, first_row)
            names = _header_names(header, sep)
            _check_not_data(path, names, sep)
            _check_distinct(path, names)
            df = _read_csv(p, path, sep, as_text, names)
            df = _without_trailing_blanks(df, as_text)
            named = _named_width(list(df.columns))
            if 0 < named < len(df.columns):
                # The header ends with a separator and a row has a value past it: that row
                # is the longer one, not the rows of the header's named columns.
                _check_row_widths(p, path, sep, named, named)
            last = df.iloc[:, -1] if len(df.columns) > 1 else None
            if last is not None and (
                last.isna().any() or (str(df.columns[-1]).strip() in as_text and last.eq("").any())
            ):
                # pandas fills a short row's last cells with NaN (with "" in a column read
                # as text): it would be called a missing target, or its values would be
                # read under the wrong columns.
                _check_row_widths(p, path, sep, len(df.columns))
            # Before the decimal commas: those are looked for with pandas' .str, which
            # fails on a column of Python ints ("Can only use .str accessor ...").
            _wide_integers_as_floats(df, path)
            if sep != ",":
                _read_decimal_commas(df, p, path, sep, as_text)
                # Its columns read again from their text hold such ints anew, which the
                # features' check called "not numeric".
                _wide_integers_as_floats(df, path)
        elif suffix in (".parquet", ".pq"):
            try:
                import pyarrow
            except ImportError:
                raise DataError(
                    f"data file {path!r}: reading Parquet needs pyarrow; " + install_hint("parquet")
                ) from None
            # Named twice, a column failed in Arrow's words ("Multiple matches for
            # FieldRef.Name(a)"); told as a CSV's repeated name is.
            import pyarrow.parquet

            schema = pyarrow.parquet.read_schema(p)
            _check_distinct(path, [str(n) for n in schema.names])
            df = pd.read_parquet(p)
            for field in schema:
                # A database's NUMERIC column comes as Python Decimals, which were called
                # "numbers stored as text": numbers, as floats.
                if pyarrow.types.is_decimal(field.type) and field.name in df.columns:
                    df[field.name] = df[field.name].astype("float64")
            # Arrow's allocator keeps the memory it read the file into (about the table's
            # size again) for the whole run unless told to give it back.
            pyarrow.default_memory_pool().release_unused()
            if df.index.names != [None]:
                # A named index (df.set_index("id").to_parquet) comes back as the index;
                # as a column it is seen, as the CSV of the same frame shows it.
                df = df.reset_index()
            else:
                # pandas' own row numbers, kept in the file where they are not 0..n-1
                # (rows shuffled or filtered): no column, as pandas reads the file. As a
                # column named `index`, they were a feature, and rows in their saved
                # order taught a model of noise a test accuracy of 1.0.
                df = df.reset_index(drop=True)
        elif suffix == ".npz":
            df = _npz_frame(p)
        else:
            raise DataError(
                f"data file {path!r}: unknown format; use one of {', '.join(FILE_SUFFIXES)}"
            )
    except DataError:
        raise
    except OSError as err:  # no permission to read it, an I/O error: the file, by name
        raise unreadable(path, err) from None
    except pd.errors.EmptyDataError:
        raise DataError(f"data file {path!r} is empty") from None
    except UnicodeDecodeError:
        # Most often a spreadsheet's export in the Windows code page (café as 0xE9).
        raise DataError(
            f"data file {path!r} is not UTF-8 text{_where_not_utf8(p)}; save it as UTF-8 "
            "(a spreadsheet's Save As 'CSV UTF-8') and use that file"
        ) from None
    except MemoryError:  # the machine's limit, not the file's fault: said as such above
        raise
    except Exception as err:  # a malformed file, whatever the parser says
        raise _not_read(path, err) from None
    df.columns = [str(c).strip() for c in df.columns]
    _check_distinct(path, list(df.columns))
    return df


def column_as_written(path: str, name: str):  # -> pandas.Series | None
    """A text file's column ``name``, each cell as its text (``01`` stays ``01``), read
    alone (a second reading of every column doubled the load of a large file); None where
    the file is no text table or the column cannot be read so."""
    import pandas as pd

    p = Path(path)
    if p.suffix.lower() not in TEXT_SUFFIXES:
        return None
    try:
        header, first_row = _first_lines(p, path)
        sep = _separator(header, first_row)
        options: dict[str, Any] = {"sep": sep, "skipinitialspace": True, "index_col": False}
        if sep == SPACES:
            options.update(header=0, names=_header_names(header, sep))
        columns = [c for c in pd.read_csv(p, nrows=0, **options).columns]
        named = [c for c in columns if column_name(c) == column_name(name)]
        if len(named) != 1:
            return None
        cells = pd.read_csv(p, usecols=named, dtype=str, keep_default_na=False, **options)
    except (OSError, ValueError, DataError):  # pandas' ParserError is a ValueError
        return None
    return cells[named[0]]


def column_name(name: Any) -> str:
    """A column's name as mlplab compares it: without the spaces around it, and in
    Unicode's composed form (NFC), as a name typed elsewhere is: a macOS header's 'é'
    (an 'e' and a combining accent) is the 'é' of --target, though their bytes differ."""
    return unicodedata.normalize("NFC", str(name).strip())


def as_written(name: str, columns: Iterable[Any]) -> str:
    """``name`` as the file writes it: itself where a column is so named, else the one
    column it names in Unicode's composed form (:func:`column_name`), else itself (for
    the caller's line that no such column exists). The file's spelling is kept: a
    record's names, and a file with both forms of one name, read as before."""
    return names_as_written([name], columns)[name]


def names_as_written(names: Iterable[str], columns: Iterable[Any]) -> dict[str, str]:
    """:func:`as_written` of each of ``names``, by one pass over ``columns``: a pass per
    name made `predict` of a 20,000-column file take 8 minutes."""
    columns = list(columns)
    present = set(columns)
    composed: dict[str, list[Any]] = {}
    names = list(names)
    if any(n not in present for n in names):
        for c in columns:
            composed.setdefault(column_name(c), []).append(c)
    written = {}
    for n in names:
        alike = [] if n in present else composed.get(column_name(n), [])
        written[n] = str(alike[0]) if len(alike) == 1 else n
    return written


# The cells pandas reads as missing by default (its documented list). A column read as text
# keeps them as they are written; every other column reads them as missing, as before.
MISSING_CELLS = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
]  # fmt: skip


def _read_csv(
    p: Path, path: str, sep: str, as_text: Collection[str], names: list[str]
):  # -> pandas.DataFrame
    """``names``: the header's, as read by :func:`_header_names`; a table of spaces takes
    them, so that np.savetxt's comment mark before them (``# a b y``) is no column."""
    import pandas as pd

    options: dict[str, Any] = {"sep": sep, "skipinitialspace": True}
    if sep == SPACES:
        options.update(header=0, names=names)
    columns = list(pd.read_csv(p, nrows=0, **options).columns)
    text = [c for c in columns if column_name(c) in as_text]
    # index_col=False: where the first data row has one value more than the header, pandas
    # made an index of the first column, and read every value under the wrong column.
    options["index_col"] = False
    if text:
        options.update(
            dtype=dict.fromkeys(text, str),
            keep_default_na=False,
            na_values={c: MISSING_CELLS for c in columns if c not in text},
        )
    with warnings_caught():
        # Read with the columns' types guessed in chunks, a column of numbers and text draws
        # pandas' DtypeWarning, with advice (dtype=, low_memory=) that is no setting of
        # mlplab's. Such a column is text, which the features' check names, value and row.
        warnings.simplefilter("ignore", pd.errors.DtypeWarning)
        # Rows as long as a longer first data row have their values past the header's
        # columns dropped, with this warning unless each is empty (a separator ending
        # every line, as some programs export; but for a column read as text).
        warnings.filterwarnings("error", "Length of header", pd.errors.ParserWarning)
        try:
            return pd.read_csv(p, **options)
        except (pd.errors.ParserWarning, pd.errors.ParserError) as err:
            # A quote never closed, or the first row too long (or, before it, too short):
            # named by its line in the file. Any other parser error keeps pandas' words.
            if "EOF inside string" in str(err):
                _check_quotes_closed(p, path, sep)
            if _check_row_widths(p, path, sep, _named_width(columns), len(columns)):
                # Its only longer rows end with a separator that the header does not.
                return pd.read_csv(p, usecols=range(len(columns)), **options)
            if isinstance(err, pd.errors.ParserError):
                raise
            raise DataError(  # a cell past csv's size limit stopped the check
                f"data file {path!r}: some rows have more values than the header has "
                f"columns ({len(columns)}, separated by {SEPARATOR_NAMES[sep]}); every "
                "row needs one value per column"
            ) from None


def _named_width(columns: list) -> int:
    """The columns of a header less the unnamed ones after its last name (a separator
    ending it): a row without them is not short. pandas names an empty name by its
    position (``Unnamed: 3``); a column so named in the header elsewhere is a name."""
    n = len(columns)
    while n and str(columns[n - 1]) == f"Unnamed: {n - 1}":
        n -= 1
    return n


# Line ends as Unix, Windows and old Mac files write them (a Mac file of \r alone said line 1).
_LINE_ENDS = re.compile(rb"\r\n?|\n")


def _where_not_utf8(p: Path) -> str:
    """`` (it is UTF-16, ...)`` or `` (line 249: byte 0xEF)``: where a file stops being
    UTF-8, read a block at a time. One 'ï' in row 249 of a Latin-1 file was named by
    nothing, and Excel's 'Unicode Text' is UTF-16 from its first bytes."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with p.open("rb") as f:
        head = f.read(2)
        if head in (b"\xff\xfe", b"\xfe\xff"):
            return " (it is UTF-16, as a spreadsheet's 'Unicode Text' saves it)"
        f.seek(0)
        while block := f.read(1 << 20):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as err:
                # err.object: the block, after the bytes of a character a block boundary cut
                line += len(_LINE_ENDS.findall(err.object[: err.start]))
                return f" (line {line}: byte 0x{err.object[err.start]:02X})"
            line += len(_LINE_ENDS.findall(block))
    return ""


def unreadable(path: str, err: OSError) -> DataError:
    """A data file the OS will not read (no permission, an I/O error), named as the data
    file it is, as an unreadable config file is."""
    return DataError(f"data file {path!r} cannot be read ({err.strerror or type(err).__name__})")


# The first bytes of the compressed files people download tables as (Kaggle's .zip, .csv.gz).
# An NPZ file is a zip too, and Parquet has its own magic.
_COMPRESSED = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"PK\x03\x04": "zip"}


WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an Excel 97-2003 workbook's first bytes


def workbook_line(path: str) -> str:
    """The line for a spreadsheet's workbook given as a table: unpacked as the zip it is,
    it holds XML, not the table."""
    return (
        f"data file {path!r} is a spreadsheet workbook; save its sheet as CSV (a "
        "spreadsheet's Save As 'CSV UTF-8') and give that file, or in Python: "
        f"pandas.read_excel({path!r}).to_csv('data.csv', index=False)"
    )


def _is_workbook(p: Path, start: bytes) -> bool:
    if start.startswith(_OLE2[:6]):
        return True
    if not start.startswith(b"PK\x03\x04"):
        return False
    import zipfile

    try:
        with zipfile.ZipFile(p) as z:
            names = set(z.namelist()[:50])
    except (OSError, zipfile.BadZipFile):
        return False
    return "xl/workbook.xml" in names or "content.xml" in names  # Excel's, LibreOffice's


def _check_not_compressed(p: Path, path: str) -> None:
    """Name a compressed file as one: read as text it is "not UTF-8", and by its name
    (data.csv.gz) an unknown format, neither of which says what to do. A workbook (a
    zip, or Excel 97's own format) is named as one, under any name."""
    if p.suffix.lower() == ".npz":
        return
    with p.open("rb") as f:
        start = f.read(6)
    if _is_workbook(p, start):
        raise DataError(workbook_line(path))
    for magic, kind in _COMPRESSED.items():
        if start.startswith(magic):
            raise DataError(
                f"data file {path!r} is {kind}-compressed; unpack it first and give the "
                f"table it holds ({', '.join(FILE_SUFFIXES)})"
            )


PARQUET_MAGIC = b"PAR1"  # the first (and last) 4 bytes of every Parquet file


def _check_not_parquet(p: Path, path: str) -> None:
    """Name a Parquet file saved under another name (data.csv): read as text, it was
    called "not UTF-8 text", and its fix is a name, not an encoding."""
    if p.suffix.lower() in (".parquet", ".pq"):
        return
    with p.open("rb") as f:
        head = f.read(4096)
    # A CSV whose first column is named PAR1... is a CSV: text holds no NUL byte, which
    # Parquet's binary header has (a file cut short included).
    if head.startswith(PARQUET_MAGIC) and b"\x00" in head:
        raise DataError(
            f"data file {path!r} is a Parquet file; give it a .parquet name "
            f"(e.g. {p.with_suffix('.parquet').name}) and use that file"
        )


def _check_row_widths(p: Path, path: str, sep: str, least: int, most: int | None = None) -> bool:
    """Refuse the first data row with fewer than ``least`` values, or (given ``most``) more
    than ``most`` (the header's columns) but for one empty value after them (a separator
    ending the line, which pandas drops), by the line of the file it starts on, as an
    editor numbers them (the header is line 1). Lines pandas skips (empty, or spaces and
    tabs alone) are skipped. False where csv cannot read the file to its end."""

    def odd(row: list[str]) -> bool:
        if len(row) < least:
            return True
        return most is not None and len(row) > most and (len(row) > most + 1 or bool(row[-1]))

    with p.open(encoding="utf-8-sig", errors="replace", newline="") as f:
        try:
            rows = (
                (line, row)
                for line, row in _rows_by_line(f, sep)
                if row and not (len(row) == 1 and not row[0].strip())
            )
            next(rows, None)  # the header
            found = next(((i, r) for i, r in rows if odd([v.strip() for v in r])), None)
            last = found is not None and next(rows, None) is None
        except csv.Error:  # a cell beyond csv's size limit: pandas read it, and judges
            return False
    if found is None:
        return True
    number, row = found
    values = f"{len(row)} value{'' if len(row) == 1 else 's'}"
    if len(row) > least:
        # Most often a value with the separator in it, written without quotes.
        quotes = (
            ""
            if sep == SPACES
            else f"; a value with a {SEPARATOR_NAMES[sep][:-1]} in it goes in double quotes"
        )
        end = "" if sep == SPACES else "; one ending a line is dropped"
        raise DataError(
            f"data file {path!r}: line {number} has {values}, more than the header's "
            f"{most} columns (separated by {SEPARATOR_NAMES[sep]}{end}); every row needs "
            f"one value per column{quotes}"
        )
    # Spaces cannot hold an empty cell: a missing value there is written NA.
    missing = "NA" if sep == SPACES else "an empty cell"
    raise DataError(
        f"data file {path!r}: line {number} has {values}, fewer than the header's {least} "
        f"columns (separated by {SEPARATOR_NAMES[sep]}); every row needs one value per "
        f"column ({missing} for a missing one){_cut_short(p) if last else ''}"
    )


def _cut_short(p: Path) -> str:
    """A short last line with no line end is most often a copy or download cut short,
    where adding empty cells is no fix."""
    with p.open("rb") as f:
        f.seek(max(0, p.stat().st_size - 4096))
        # Spaces or tabs after the last line end make no line of their own.
        if f.read().rstrip(b" \t")[-1:] in (b"\r", b"\n"):
            return ""
    return "; it is the file's last line, with no line end: the file may be cut short"


def _check_quotes_closed(p: Path, path: str, sep: str) -> None:
    """Refuse a file with a double quote never closed, by the line of the file that its
    row starts on: the quote holds the rest of the file as one value."""
    with p.open(encoding="utf-8-sig", errors="replace", newline="") as f:
        reader = csv.reader(f, delimiter=" " if sep == SPACES else sep, skipinitialspace=True)
        start = last = 1
        try:
            for _ in reader:
                last, start = start, reader.line_num + 1
        except csv.Error:  # the rest of the file, as one value, past csv's size limit
            last = start
    raise DataError(
        f"data file {path!r}: line {last} opens a double quote that is never closed; a "
        'value in double quotes ends with another (one inside it is written twice: "")'
    )


def _rows_by_line(f: TextIO, sep: str) -> Iterator[tuple[int, list[str]]]:
    """Each row of the text file ``f``, with the number of the line it starts on (1: the
    header); a quoted value may hold line breaks, so a row may span several lines."""
    if sep == SPACES:
        for number, line in enumerate(f, 1):
            yield number, line.split()
        return
    reader = csv.reader(f, delimiter=sep, skipinitialspace=True)
    start = 1
    for row in reader:
        yield start, row
        start = reader.line_num + 1


def _check_not_data(path: str, names: list[str], sep: str) -> None:
    """Refuse a file without a header: read as one, its first row of values would become
    the column names, and that row would be lost without a word. A name such as 0.1257 is
    a value; whole numbers pass, as columns may be named by years (2020) (a first row
    of whole numbers alone gets a note: :func:`numbered_names_note`)."""
    for name in names:
        number = name.replace(",", ".") if sep != "," else name  # a decimal comma
        if _FRACTION.fullmatch(number) and not _INTEGER.fullmatch(number):
            raise DataError(
                f"data file {path!r}: its first row looks like data, not column names "
                f"({name!r} is a number); the first row must name the columns"
            )


def numbered_names_note(names: list[str]) -> list[str]:
    """A note where every column name is a whole number, other than the 0, 1, 2, ... (or
    1, 2, 3, ...) that pandas numbers columns by: ``np.savetxt`` of whole numbers writes
    no header, so its first row of data became the names, and was left out of the rows.
    A note, not a refusal: years (2018, 2019, ...) name columns as well."""
    if not names or not all(_INTEGER.fullmatch(n.strip()) for n in names):
        return []
    if [int(n) for n in names] in (list(range(len(names))), list(range(1, len(names) + 1))):
        return []
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    return [
        f"every column name is a whole number ({shown}): if the file has no header row, "
        "its first row of data was read as the names and left out of the rows; the first "
        "row must name the columns"
    ]


def _check_distinct(path: str, names: list[str]) -> None:
    # Counted once (not names.count per name): a header of 100,000 names took minutes.
    # Nameless columns ('' in a header ending in ",,") are not repeats: empty ones at the
    # end are dropped, and others refused as nameless.
    dup = sorted(c for c, n in collections.Counter(names).items() if n > 1 and c)
    if dup and all(_INTEGER.fullmatch(str(n).strip()) for n in names):
        # 0,0,1 is a row of data, not names given twice: a file without a header.
        raise DataError(
            f"data file {path!r}: its first row looks like data, not column names "
            f"({', '.join(map(str, names[:5]))}{', ...' if len(names) > 5 else ''} repeat whole "
            "numbers); the first row must name the columns"
        )
    if dup:
        raise DataError(
            f"data file {path!r}: duplicate column names {dup}; give each column a name of its own"
        )


SEPARATOR_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}
# Runs of spaces: a table as np.savetxt, R's write.table or an aligned printout writes it.
SPACES = r"\s+"
SEPARATOR_NAMES[SPACES] = "spaces"


# The longest header read: ~6 million short column names. Far beyond any table that fits a
# model, and a bound on what a file with no line break at all can make us hold.
MAX_HEADER_CHARS = 64 << 20


def _first_lines(p: Path, path: str) -> tuple[str, str]:
    """The header and the first data row, each whole (a header cut at 1 MiB made its last
    name a repeat of an earlier one's prefix: 'duplicate column names ['c14496']')."""
    with p.open(encoding="utf-8-sig", errors="replace", newline="") as f:
        header, line = f.readline(MAX_HEADER_CHARS + 1), 1
        while header and not header.strip():
            # Empty lines above the names are skipped, as pandas skips them (the separator
            # was found from the empty one: the header was one column, 'x1,x2,y'); a line
            # of spaces pandas takes for the header itself.
            if header.strip("\r\n"):
                raise DataError(
                    f"data file {path!r}: line {line}, above the column names, holds only "
                    "spaces or tabs; delete it, so that the first line names the columns"
                )
            header, line = f.readline(MAX_HEADER_CHARS + 1), line + 1
        if len(header) > MAX_HEADER_CHARS:
            raise DataError(
                f"data file {path!r}: its first line (the column names) is over "
                f"{MAX_HEADER_CHARS >> 20} MiB long; give a table with a line break after "
                "the header and at most a few million columns"
            )
        # The first row only helps to choose the separator; past the bound it is cut, as
        # a row that long is data, not a hint worth holding twice.
        first_row = f.readline(MAX_HEADER_CHARS)
    if re.fullmatch(r"sep=.", header.strip()):
        # Excel writes and reads this line; pandas took it for the header, and every
        # row for a longer one.
        raise DataError(
            f"data file {path!r}: its first line {header.strip()!r} is a spreadsheet's "
            "separator hint; delete that line, so that the first line names the columns "
            "(the separator is found from them)"
        )
    return _uncommented(header, first_row), first_row


def _uncommented(header: str, first_row: str) -> str:
    """The header without np.savetxt's comment mark where the mark is all that keeps it
    from naming the first row's values: ``# a b y`` over rows of three values gave a
    column per word, one more than the rows hold. A comma file's ``# a,b,y`` is left as
    it is: its first column is named ``# a``, which may be a name (``# of rooms``)."""
    if (
        header.startswith("# ")
        and len(header.split()) == len(first_row.split()) + 1
        and _separator(header[2:], first_row) == SPACES
    ):
        return header[2:]
    return header


_SEPARATORS = re.compile("[,;\t]")


def _separator(header: str, first_row: str = "") -> str:
    """The CSV file's separator: the comma, or the semicolon or tab that spreadsheets save
    "CSV" with in many locales (read with commas, such a file is one column, and its rows'
    decimal commas split them into more).

    The one that occurs most in the header wins, so a comma inside one name of a semicolon
    file ("weight (kg, net);height") does not make it a comma file. Of equals, the one that
    splits the first data row into as many values wins; then the comma. A header with
    none of them, whose names and first row's values are as many runs of spaces apart,
    is a table of spaces (``np.savetxt(..., header=..., comments="")``).
    """
    header, first_row = (re.sub(r'"[^"]*"', "", line) for line in (header, first_row))
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    most = max(counts.values())
    names, values = header.split(), first_row.split()
    if most == 0 and len(names) > 1 and (not values or len(values) == len(names)):
        return SPACES  # names and values with no separator but spaces between them
    if most == 0 and len(names) > 1 and len(values) > 1 and not _SEPARATORS.search(first_row):
        # Rows of spaces as well, but not as wide as the header: read as commas, the file
        # was one column ("no feature columns left"); as spaces, its width is refused by
        # the line that differs.
        return SPACES
    tied = [sep for sep in counts if counts[sep] == most]
    agreeing = [sep for sep in tied if first_row.count(sep) == most]
    return (agreeing or tied)[0]


# The largest float64, about 1.8e308: a longer integer has no float to become. A Python
# float, as comparing a Python int with NumPy's float64 converts the int and overflows.
FLOAT_MAX = sys.float_info.max


def _wide_integers_as_floats(df, path: str) -> None:
    """Read integers beyond int64 (an id, a count in 1e20) as the float64 numbers they are:
    pandas keeps such a column as Python ints (dtype object), which reads as text.

    One beyond float64's range (a 400-digit number) is refused, by column and row: its
    conversion failed as "cannot be read: int too large to convert to float".
    """
    import pandas as pd

    for c in [c for c in df.columns if pd.api.types.is_object_dtype(df[c])]:
        values = df[c].dropna()
        if len(values) and all(type(v) is int for v in values):
            huge = next(
                (i for i, v in enumerate(df[c]) if type(v) is int and abs(v) > FLOAT_MAX), None
            )
            if huge is not None:
                value = abs(df[c].iloc[huge])
                # str() of an int over 4300 digits is refused: past that, counted by bits.
                what = (
                    f"a {len(str(value))}-digit integer"
                    if value.bit_length() < 14_000
                    else f"an integer of about {int(value.bit_length() * 0.30103)} digits"
                )
                raise DataError(
                    f"data file {path!r}: column {str(c).strip()!r} has a number too large "
                    f"for a float in data row {huge + 1} ({what}; a float holds at most about "
                    f"{FLOAT_MAX:.1e}); fix or drop that row"
                )
            df[c] = pd.to_numeric(df[c]).astype(np.float64)


def _without_trailing_blanks(df, as_text: Collection[str] = ()):  # -> pandas.DataFrame
    """The table without what spreadsheets leave after it: the empty, unnamed column of a
    separator that ends every line, and rows with no value at all (``;;``) at the end."""
    while len(df.columns) and str(df.columns[-1]).startswith("Unnamed: "):
        if df[df.columns[-1]].notna().any():
            break  # a column with values and no name: refused by name later
        df = df.iloc[:, :-1]
    present = df.notna()
    for c in [c for c in df.columns if str(c).strip() in as_text]:
        present[c] &= df[c].ne("")  # read as text, an empty cell is ""
    filled = present.any(axis=1).to_numpy()
    last = len(filled) - int(filled[::-1].argmax()) if filled.any() else 0
    return df.iloc[:last] if last < len(df) else df


def _read_decimal_commas(df, p: Path, path: str, sep: str, as_text: Collection[str] = ()) -> None:
    """Read numbers as spreadsheets write them where the file's separator is ';' or a tab:
    a decimal comma (-43,64), and dots that group thousands (1.799.289,58).

    A file is read so once one of its columns is numbers with decimal commas: its other
    columns of such numbers are then read the same way, so 1.682 is 1682, not 1.682 as a
    dot-decimal file would have it. A column with other text (a note with a comma in it)
    stays text, and the features' check names it. In a file read with decimal points, a
    column whose dots can only group thousands is refused (:func:`_check_not_grouped`).
    """
    import pandas as pd

    def numbers(values) -> bool:
        kept = values.dropna()
        return len(kept) > 0 and bool(kept.str.fullmatch(_COMMA_NUMBER).all())

    texts = [c for c in df.columns if df[c].dtype.kind == "O" and str(c).strip() not in as_text]
    with_commas = [c for c in texts if df[c].str.contains(",", regex=False, na=False).any()]
    # A ';' is a European spreadsheet's, whose dots group thousands; a tab or spaces are
    # as often np.savetxt's or R's, whose 2.781 beside 168 are decimals.
    floats = [
        c
        for c in df.columns
        if sep == ";" and str(c).strip() not in as_text and _may_be_grouped(df[c])
    ]
    if not with_commas and not floats:
        return  # nothing says the comma is the decimal mark, nor a dot could group
    # Without a comma to read, the columns that may group thousands alone: each cell as a
    # str costs tens of bytes, which a wide file's others are spared.
    names = list(df.columns)
    wanted = range(len(names)) if with_commas else [names.index(c) for c in floats]
    raw = pd.read_csv(
        p,
        sep=sep,
        skipinitialspace=True,
        dtype=str,
        nrows=len(df),
        index_col=False,
        usecols=wanted,  # not the empty value after a separator ending a row
    )
    raw = raw.set_axis([names[i] for i in wanted], axis=1)
    raw = raw.apply(lambda col: col.str.strip())
    if not any(numbers(raw[c]) for c in with_commas):
        _check_not_grouped(raw, floats, path)  # dots are decimals
        return
    for col in [c for c in df.columns if str(c).strip() not in as_text]:
        if numbers(raw[col]):
            _check_not_comma_grouped(raw[col], col, path, sep)
            plain = raw[col].str.replace(_GROUPS, "", regex=True).str.replace(",", ".", regex=False)
            df[col] = pd.to_numeric(plain)


# Whole numbers as a spreadsheet groups them (2.781, 667.017), and those under 1000 (168).
_GROUPED = re.compile(r"[+-]?[1-9]\d{0,2}(\.\d{3})+")
_UNDER_1000 = re.compile(r"[+-]?\d{1,3}")


def _may_be_grouped(col) -> bool:
    """Whether a column read as numbers could be :func:`_check_not_grouped`'s: whole
    numbers under 1000 beside numbers of 3 decimals from 1 up (its text is read again,
    which a column of measurements is spared)."""
    if col.dtype.kind != "f":
        return False
    v = col.dropna().to_numpy()
    if not np.isfinite(v).all() or np.abs(v).max(initial=0) >= 1e15:
        return False  # no spreadsheet groups those, and v * 1000 would overflow
    whole = v == np.round(v)
    return bool(
        (whole & (np.abs(v) < 1000)).any()
        and (~whole & (np.abs(v) >= 1)).any()
        and (np.abs(v * 1000 - np.round(v * 1000)) < 1e-6).all()
    )


def _check_not_grouped(raw, columns: list[str], path: str) -> None:
    """One line for a column of a ';' file, read with decimal points, whose dots group
    thousands: whole numbers under 1000 beside numbers whose every dot is followed by 3
    digits. A German
    export of populations (168, 2.781, 667.017) was read as 168, 2.781 and 667.017, and
    trained on that, without a word."""
    for c in columns:
        kept = raw[c].dropna()
        grouped, plain = kept.str.fullmatch(_GROUPED), kept.str.fullmatch(_UNDER_1000)
        if grouped.any() and plain.any() and (grouped | plain).all():
            dotted, whole = kept[grouped].iloc[0], kept[plain].iloc[0]
            raise DataError(
                f"data file {path!r}: column {c!r} holds {dotted!r} beside {whole!r}: its dots "
                f"seem to group thousands ({dotted.replace('.', '')}), but a file without "
                "decimal commas reads a dot as a decimal point; save the column without the "
                "thousands separator (or, if they are decimals, write them on every value: "
                f"{whole}.000)"
            )


def _check_not_comma_grouped(values, name: str, path: str, sep: str) -> None:
    """One line for a column of a file read with decimal commas whose commas group
    thousands: whole numbers under 1000 beside numbers of one comma before 3 digits. A
    tab-separated export of a US spreadsheet (4,057 beside 428) was read as 4.057 and 428,
    and trained on that, without a word."""
    kept = values.dropna()
    grouped, plain = kept.str.fullmatch(r"[+-]?[1-9]\d{0,2},\d{3}"), kept.str.fullmatch(_UNDER_1000)
    if grouped.any() and plain.any() and (grouped | plain).all():
        comma, whole = kept[grouped].iloc[0], kept[plain].iloc[0]
        raise DataError(
            f"data file {path!r}: column {name!r} holds {comma!r} beside {whole!r}: its commas "
            f"seem to group thousands ({comma.replace(',', '')}), but a file separated by "
            f"{SEPARATOR_NAMES[sep]} is read with decimal commas; save the column without "
            f"the thousands separator (or, if they are decimals, write them on every value: "
            f"{whole},000)"
        )


def header_names(path: str) -> list[str] | None:
    """A text file's column names as its header writes them, where pandas names an empty
    one ``Unnamed: N``, as it would a column truly named so; None for Parquet and NPZ,
    whose names are kept as written."""
    p = Path(path)
    if p.suffix.lower() not in TEXT_SUFFIXES:
        return None
    header, first_row = _first_lines(p, path)
    return _header_names(header, _separator(header, first_row))


def _header_names(header: str, sep: str) -> list[str]:
    """The CSV file's column names as written: pandas renames a repeated name, reading
    ``a,a`` as ``a`` and ``a.1``, which hides the repeat."""
    if sep == SPACES:
        return header.split()
    try:
        row = next(csv.reader([header], delimiter=sep, skipinitialspace=True), [])
    except csv.Error:  # a name longer than csv's limit (128 KiB): pandas reads it
        return []
    return [name.strip() for name in row]


def _npz_arrays(p: Path, need_y: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """The X (made 2-D) and y arrays of an NPZ file; y is None where it has none and
    ``need_y`` is False (new rows to predict)."""
    with p.open("rb"):  # is_zipfile says False of a file it may not read: say why
        pass
    if not zipfile.is_zipfile(p):
        # np.load would take it for pickled data and speak of allow_pickle; a zip cut short
        # gives "File is not a zip file", which names no format.
        raise DataError(
            f"data file {str(p)!r} is not an NPZ archive of NumPy arrays (as np.savez writes)"
        )
    with np.load(p, allow_pickle=False) as z:
        keys = set(z.files)
        xk = next((k for k in ("X", "x", "features") if k in keys), None)
        yk = next((k for k in ("y", "Y", "target", "targets") if k in keys), None)
        if xk is None or (yk is None and need_y):
            needs = "arrays named X and y" if need_y else "an array named X"
            raise DataError(
                f"data file {str(p)!r}: an NPZ file needs {needs} (found {sorted(keys)})"
            )
        for key in (xk, yk):
            if key is not None:
                _check_npz_member(z, key, p)
        X = _native(np.asarray(z[xk]))
        y = None if yk is None else _native(np.asarray(z[yk]))
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or (y is not None and len(X) != len(y)):
        got = X.shape if y is None else f"{X.shape} and {y.shape}"
        # Images (N, 8, 8) or other arrays a row: their values a row, one feature each.
        flat = "; rows of arrays are flattened first: X.reshape(len(X), -1)" if X.ndim > 2 else ""
        raise DataError(
            f"data file {str(p)!r}: X must be [N, features] and y must have N rows (got {got})"
            f"{flat}"
        )
    return X, y


def _native(a: np.ndarray) -> np.ndarray:
    """``a`` in this machine's byte order: a big-endian array (an NPZ written on another
    machine, or with dtype '>f8') made pandas raise a traceback while the rows were read."""
    return a.astype(a.dtype.newbyteorder("=")) if not a.dtype.isnative else a


def _not_read(path: str, err: Exception) -> Exception:
    """What a reader's failure says: the file cannot be read, in the reader's words, but
    for a reader's thread that could not start under a memory limit (`ulimit -v`), which
    is memory run out, not the file's fault."""
    if isinstance(err, RuntimeError) and "can't start new thread" in str(err):
        return MemoryError(str(err))
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    return DataError(f"data file {path!r} cannot be read: {reason}")


def read_npz_features(path: str) -> np.ndarray:
    """The rows of an NPZ file's X array (its columns have no names: they go by position)."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"data file {path!r} {'is not a file' if p.exists() else 'does not exist'}")
    try:
        return _npz_arrays(p, need_y=False)[0]
    except DataError:
        raise
    except OSError as err:
        raise unreadable(path, err) from None
    except MemoryError:  # the machine's limit, not the file's fault: said as such above
        raise
    except Exception as err:  # a malformed file, whatever the parser says
        raise _not_read(path, err) from None


def _npz_frame(p: Path):
    import pandas as pd

    X, y = _npz_arrays(p)
    assert y is not None
    cols = {f"x{i}": X[:, i] for i in range(X.shape[1])}
    if y.ndim == 1:
        cols["y"] = y
    else:
        cols.update({f"y{j}": y[:, j] for j in range(y.shape[1])})
    return pd.DataFrame(cols)


def _check_npz_member(z, key: str, p: Path) -> None:
    """Refuse an array of Python objects, or whose header promises more memory than the
    machine has.

    An NPZ file is a zip: a few KB of compressed zeros can unpack into terabytes. The
    header of each .npy member gives its shape and dtype before anything is unpacked.
    """
    header = member_header(z.zip, f"{key}.npy")
    if header is None:
        return  # damaged, or a newer header: np.load gives its own error, or reads it
    shape, dtype = header
    if dtype.hasobject:
        # pandas' .to_numpy() of a text column: np.load refuses it without pickle, and
        # its words ("allow_pickle=False") say nothing of the fix.
        raise DataError(
            f"data file {str(p)!r}: array {key!r} holds Python objects (as pandas' "
            ".to_numpy() gives for text), which are not read from files; save it with "
            ".astype(str) for labels or .astype(float) for numbers"
        )
    n = 1
    for d in shape:
        n *= int(d)
    detail = f"array {key!r} of shape {tuple(shape)}"
    check_memory(f"data file {str(p)!r}", n * max(dtype.itemsize, 8), detail, DataError)


def default_target(df, path: str) -> list[str]:
    """The last column, or the ``y``/``y0..`` columns that an NPZ file produced."""
    if path.lower().endswith(".npz"):
        ys = [c for c in df.columns if c == "y" or (c.startswith("y") and c[1:].isdigit())]
        if ys:
            return ys
    return [df.columns[-1]]
