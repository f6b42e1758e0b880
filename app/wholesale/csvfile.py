"""Reading an order list pasted or exported from an ERP as CSV: a pure function, tested without a database.

Accepted: a UTF-8 byte-order mark, CRLF or LF line ends, blank lines (skipped), quoted fields (with
embedded commas or doubled quotes), surrounding spaces, extra columns after `sku,quantity` (ignored)
and the header columns in any order. Rows keep the line number they start on in the file (the header
is line 1), so a clerk can find each one in the spreadsheet. Structural faults (no header, a missing
column, an unclosed quote, a NUL byte, not UTF-8) are `MalformedCsv` naming the line.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass


class MalformedCsv(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True, slots=True)
class CsvRow:
    line: int
    sku: str
    quantity: str  # as typed; the caller parses it (a bad quantity is a line error, not a malformed file)


def decode(body: bytes) -> str:
    """UTF-8 text without its byte-order mark."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        raise MalformedCsv(line, "the file is not UTF-8 text") from None
    if "\x00" in text:
        raise MalformedCsv(text[: text.index("\x00")].count("\n") + 1, "the file contains a NUL byte")
    return text


def parse_order_csv(text: str, *, max_rows: int) -> list[CsvRow]:
    """The data rows of an order CSV with the header `sku,quantity`."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    sku_col = qty_col = 0
    rows: list[CsvRow] = []
    line = 1
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
            if "sku" not in header or "quantity" not in header:
                raise MalformedCsv(line, "the first line must be the header `sku,quantity`")
            sku_col, qty_col = header.index("sku"), header.index("quantity")
            continue
        if len(record) <= max(sku_col, qty_col):
            raise MalformedCsv(line, f"expected {len(header)} columns, found {len(record)}")
        rows.append(CsvRow(line, record[sku_col].strip(), record[qty_col].strip()))
        if len(rows) > max_rows:
            raise MalformedCsv(line, f"an order has at most {max_rows} lines")
    if header is None:
        raise MalformedCsv(line, "the file is empty; expected the header `sku,quantity`")
    return rows
