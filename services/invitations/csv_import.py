"""Reading staff addresses from an uploaded CSV file: pure and synchronous, no database."""

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath

from services.invitations import addresses as emails
from services.invitations import csv_decoding, csv_ends
from services.invitations.csv_decoding import CsvImportError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
LIMIT = "10 MB"  # DEFAULT_MAX_BYTES, in words
DEFAULT_MAX_ROWS = 200_000
DEFAULT_MAX_LINE_CHARS = 10_000

_DELIMITERS = (",", ";", "\t")
_SAMPLE_CHARS = 64 * 1024
_SAMPLE_LINES = 20
_HEADER_WORDS = ("mail", "correo", "courriel", "address", "adres", "recipient", "login", "user")
_MAX_HEADER_CHARS = 60
_FORMULA_STARTS = ("=", "+", "-", "@")
_SAMPLE_ROWS = 50  # rows looked at to find the column that holds the addresses

ACCEPTED_SUFFIXES = (".csv", ".txt", ".tsv")
ACCEPTED_TYPES = ".csv,.txt,.tsv,text/csv,text/plain,text/tab-separated-values"
WHAT_IT_TAKES = (
    f"A .csv, .txt or .tsv file of up to {LIMIT}: one address per line, or the addresses in the first column "
    "(a header row is fine, other columns are ignored)."
)
_SPREADSHEETS = {
    ".xlsx": "an Excel workbook",
    ".xlsm": "an Excel workbook",
    ".xlsb": "an Excel workbook",
    ".xls": "an Excel workbook",
    ".ods": "an OpenDocument spreadsheet",
    ".numbers": "a Numbers spreadsheet",
}
_DOCUMENTS = {
    ".pdf": "a PDF document",
    ".doc": "a Word document",
    ".docx": "a Word document",
    ".odt": "an OpenDocument text",
    ".rtf": "a formatted text document",
}


@dataclass(frozen=True)
class LineProblem:
    """One line that gave no address: where it is, what it held (safe to show) and why."""

    line: int
    value: str
    reason: str


@dataclass
class ImportResult:
    """The valid, unique addresses in file order, the problems by line, and the data rows read (no header)."""

    addresses: list[str]
    problems: list[LineProblem]
    total_rows: int
    lines: list[int] = field(default_factory=list, compare=False)  # the line of each address, in the same order
    # An address's own end of access, from a second column of dates (canonical address: end, naive when the file
    # gave no zone: the pop-out reads it in the viewer's zone). A date alone means the end of that day.
    ends: dict[str, datetime] = field(default_factory=dict, compare=False)


def parse_file(*, data: bytes, name: str) -> ImportResult:
    """parse() an uploaded file, first refusing one whose name says it is no text file (a workbook, a PDF)."""
    if wrong_kind := wrong_file_kind(name):
        raise CsvImportError(wrong_kind)
    return parse(data=data)


def parse(
    *,
    data: bytes,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_line_chars: int = DEFAULT_MAX_LINE_CHARS,
) -> ImportResult:
    """Read the addresses in the first column of a CSV file, or raise CsvImportError for an unusable file."""
    if len(data) > max_bytes:
        raise CsvImportError(f"The file is too large ({_size(len(data))}). The limit is {_size(max_bytes)}.")
    text = csv_decoding.decode(data)
    if not text.strip():
        raise CsvImportError(csv_decoding.EMPTY)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    sample: list[list[str]] = []
    rows = _read_rows(text, _detect_delimiter(text), max_rows, max_line_chars, sample)
    if elsewhere := _addresses_elsewhere(sample):
        raise CsvImportError(elsewhere)
    with_ends = csv_ends.is_end_column(sample, header=bool(rows) and _is_header(rows[0][1]))
    return _collect(_without_header(rows), max_rows, with_ends=with_ends)


def wrong_file_kind(name: str) -> str:
    """Why a file of this name cannot be imported, with what to do instead; "" when its kind is one we read."""
    suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower()
    if not name or suffix in ACCEPTED_SUFFIXES:
        return ""
    shown = f"“{emails.for_display(name)}”"
    if suffix in _SPREADSHEETS:
        return f"{shown} is {_SPREADSHEETS[suffix]}: save it as “CSV UTF-8” from your spreadsheet and import that file."
    if suffix in _DOCUMENTS:
        return f"{shown} is {_DOCUMENTS[suffix]}, not a list of addresses: choose a .csv, .txt or .tsv file."
    return f"{shown} is not a .csv, .txt or .tsv file. From a spreadsheet, save it as “CSV UTF-8” and import that file."


def refused_upload(*, name: str, too_large: bool) -> str:
    """What to tell someone whose browser refused a file before sending it: the wrong kind, or too large."""
    if wrong_kind := wrong_file_kind(name):
        return wrong_kind
    if too_large:
        return f"“{emails.for_display(name)}” is larger than {LIMIT}: split it into smaller files."
    return f"“{emails.for_display(name)}” cannot be imported: choose a .csv, .txt or .tsv file of up to {LIMIT}."


def _detect_delimiter(text: str) -> str:
    lines = [line for line in text[:_SAMPLE_CHARS].split("\n") if line.strip()][:_SAMPLE_LINES]
    best, best_score = ",", 0
    for delimiter in _DELIMITERS:
        score = _delimiter_score(lines, delimiter)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _delimiter_score(lines: list[str], delimiter: str) -> int:
    # The right delimiter splits rows into a steady number of columns and leaves no stray quotes or delimiters.
    rows = list(csv.reader(lines, delimiter=delimiter))
    width, count = Counter(len(row) for row in rows).most_common(1)[0] if rows else (0, 0)
    if width < 2:
        return 0
    others = [other for other in _DELIMITERS if other != delimiter]
    suspicious = sum(1 for row in rows if any('"' in cell for cell in row) or any(o in row[0] for o in others))
    return count - suspicious


def _read_rows(
    text: str, delimiter: str, max_rows: int, max_line_chars: int, sample: list[list[str]]
) -> list[tuple[int, str, str]]:
    """The first two cells of each non-blank row with its line; the first rows whole, into sample."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[tuple[int, str, str]] = []
    line = 1
    try:
        for record in reader:
            joined = "".join(record)
            if len(record) + len(joined) > max_line_chars:
                raise CsvImportError(_too_long(line, reader.line_num, max_line_chars))
            if joined and not joined.isspace():
                rows.append((line, record[0].strip(), record[1].strip() if len(record) > 1 else ""))
                if len(sample) < _SAMPLE_ROWS:
                    sample.append([cell.strip() for cell in record])
                if len(rows) > max_rows + 1:
                    raise CsvImportError(_too_many(max_rows))
            line = reader.line_num + 1
    except csv.Error:
        raise CsvImportError(_too_long(line, reader.line_num, max_line_chars)) from None
    return rows


def _too_long(first_line: int, last_line: int, max_line_chars: int) -> str:
    if last_line > first_line:
        return (
            f'Line {first_line} opens a quotation mark (") that is never closed, so the rest of the file '
            "cannot be read. Fix that line and try again."
        )
    return (
        f"Line {first_line} is longer than {max_line_chars:,} characters, so this does not look like a list "
        "of email addresses. Check that you chose the right file."
    )


def _too_many(max_rows: int) -> str:
    return f"The file has more than {max_rows:,} rows. Split it into smaller files and import them one at a time."


def _addresses_elsewhere(sample: list[list[str]]) -> str:
    """When the first column holds no address but another column mostly does: say which one, instead of a
    "missing @" for every line."""
    width = max(len(record) for record in sample) if sample else 0
    counts = [sum(1 for record in sample if _is_address(record, column)) for column in range(width)]
    if not counts or counts[0] or max(counts) * 2 < len(sample):
        return ""
    column = counts.index(max(counts))
    heading = sample[0][column] if not _is_address(sample[0], column) and sample[0][column] else ""
    named = f"column {column + 1} (“{emails.for_display(heading)}”)" if heading else f"column {column + 1}"
    return (
        f"The email addresses are in {named}, not in the first column. Move that column to the front (or delete "
        "the columns before it), save the file and import it again."
    )


def _is_address(record: list[str], column: int) -> bool:
    return column < len(record) and "@" in record[column] and _check_cell(record[column])[0] is not None


def _without_header(rows: list[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
    return rows[1:] if rows and _is_header(rows[0][1]) else rows


def _is_header(cell: str) -> bool:
    # A first row like "jane.mail.com" is a mistyped address to report, not a header to skip.
    if "@" in cell or "." in cell or len(cell) > _MAX_HEADER_CHARS:
        return False
    letters = "".join(c for c in cell.lower() if c.isalpha())
    return any(word in letters for word in _HEADER_WORDS)


def _collect(rows: list[tuple[int, str, str]], max_rows: int, *, with_ends: bool) -> ImportResult:
    if len(rows) > max_rows:
        raise CsvImportError(_too_many(max_rows))
    result = ImportResult(addresses=[], problems=[], total_rows=len(rows))
    first_lines: dict[str, int] = {}
    for line, cell, second in rows:
        address, reason = _check_cell(cell)
        end, end_problem = csv_ends.read_end(second) if with_ends else (None, "")
        if address is not None and end_problem:
            address, reason, cell = None, end_problem, second
        if address is not None:
            key = emails.canonical(address)
            first = first_lines.setdefault(key, line)
            if first == line:
                result.addresses.append(address)
                result.lines.append(line)
                if end is not None:
                    result.ends[key] = end
                continue
            reason = f"duplicate of line {first}"
        result.problems.append(LineProblem(line=line, value=emails.for_display(cell), reason=reason or "not valid"))
    return result


def _check_cell(cell: str) -> tuple[str | None, str | None]:
    if not cell:
        return None, "the first column is empty"
    if "\n" in cell:
        return None, 'has a line break inside quotation marks; check for a quotation mark (") that is not closed'
    candidate = _inside_angle_brackets(cell)
    # A cell a spreadsheet would run as a formula must never reach an export of our own.
    if cell.startswith(_FORMULA_STARTS) or candidate.startswith(_FORMULA_STARTS):
        return None, "looks like a spreadsheet formula"
    try:
        return emails.normalise(candidate), None
    except emails.InvalidEmail as error:
        return None, error.reason


def _inside_angle_brackets(cell: str) -> str:
    if cell.endswith(">") and "<" in cell:
        return cell[cell.rindex("<") + 1 : -1].strip()
    return cell


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    if count >= 1024:
        return f"{count / 1024:.1f}".removesuffix(".0") + " KB"
    return f"{count:,} bytes"
