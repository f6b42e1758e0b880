"""Reading and writing the catalogue's CSV files: pure functions, tested without a database.

A file is UTF-8 (with or without the byte-order mark Excel writes) or the GBK that Excel in China saves: the
encoding is detected (UTF-8 if the bytes are valid UTF-8, else GB18030, the superset of GBK), never assumed.
Rows keep the line they start on in the file (the header is line 1), so a merchant finds each one in the
spreadsheet; a structural fault (no header, an unknown or missing column, an unclosed quote, a NUL byte, an
encoding that is neither) is `MalformedCsv` naming the line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

ENCODINGS = {"utf-8": "utf-8-sig", "gbk": "gb18030"}  # name shown -> codec


class MalformedCsv(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    cells: dict[str, str]  # column -> text as typed, stripped; absent columns are ""


def decode(body: bytes) -> tuple[str, str]:
    """The text and the name of its encoding (`utf-8` or `gbk`)."""
    bad_line = 1
    names = ["utf-8"] if body.startswith(b"\xef\xbb\xbf") else ["utf-8", "gbk"]
    for name in names:
        try:
            text = body.decode(ENCODINGS[name])
        except UnicodeDecodeError as exc:
            bad_line = body[: exc.start].count(b"\n") + 1
            continue
        if "\x00" in text:
            raise MalformedCsv(text[: text.index("\x00")].count("\n") + 1, "the file contains a NUL byte")
        return text, name
    raise MalformedCsv(bad_line, "the file is neither UTF-8 nor GBK text")


def read(text: str, *, columns: Sequence[str], required: Sequence[str], max_rows: int) -> list[Row]:
    """The data rows of a CSV whose header names some of `columns` (any order, any case); `required` must be
    among them. Blank lines are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    rows: list[Row] = []
    line = 1
    known = set(columns)
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise MalformedCsv(start, f"cannot be read as CSV ({exc})") from None
        line = start
        if not record or all(not cell.strip() for cell in record):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in record]
            unknown = [h for h in header if h not in known]
            if unknown:
                raise MalformedCsv(line, f"unknown columns: {', '.join(unknown)} (the columns are "
                                         f"{','.join(columns)})")
            missing = [c for c in required if c not in header]
            if missing:
                raise MalformedCsv(line, f"missing columns: {', '.join(missing)}")
            if len(set(header)) != len(header):
                raise MalformedCsv(line, "a column is named twice")
            continue
        if len(record) > len(header):
            raise MalformedCsv(line, f"expected {len(header)} columns, found {len(record)}")
        cells = {c: "" for c in columns}
        cells.update({h: v.strip() for h, v in zip(header, record, strict=False)})
        rows.append(Row(line, cells))
        if len(rows) > max_rows:
            raise MalformedCsv(line, f"a file has at most {max_rows:,} rows")
    if header is None:
        raise MalformedCsv(line, f"the file is empty; expected the header {','.join(columns)}")
    return rows


def write(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """CSV text, a chunk per row, header first (CRLF, as Excel writes)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        yield buffer.getvalue()


def encode(chunk: str, encoding: str) -> bytes:
    """A chunk of CSV text in `utf-8` or `gbk` (GB18030, so no character is lost)."""
    return chunk.encode("utf-8" if encoding == "utf-8" else "gb18030")
