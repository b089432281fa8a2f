"""Files people download (CSV and JSON records): CSV cells that a spreadsheet shows as text, never runs as formulas."""

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

# What a spreadsheet treats as the start of a formula (OWASP's list): such a cell gets a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: object) -> str:
    """The value as CSV text a spreadsheet shows as typed: a leading apostrophe before a formula's first character."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(*, header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A UTF-8 CSV file (with the BOM spreadsheets look for), every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(cell) for cell in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def json_bytes(*, record: Any) -> bytes:
    """A JSON file of the record (dates as ISO 8601 text), indented for people."""
    return json.dumps(record, indent=2, ensure_ascii=False, default=str).encode("utf-8")
