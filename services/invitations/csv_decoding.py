"""Turning an uploaded file's bytes into text: byte-order marks, UTF-16 without one, UTF-8, Windows-1252."""

import codecs

from services.errors import InvalidInput

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_WORKBOOK_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"%PDF-")
_CONTROL_CHARS = {code: None for code in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]}
_SAMPLE_CHARS = 64 * 1024

EMPTY = "The file is empty. Choose a CSV file with one email address per row."
_WORKBOOK = (
    "This is a spreadsheet workbook or another document, not a CSV file. "
    "Save or export it as “CSV UTF-8” from your spreadsheet and import that file."
)
_NOT_TEXT = "This file does not contain text (it may be an image or a document). Choose a CSV file."
_UNREADABLE = "The file’s characters could not be read. Save it as “CSV UTF-8” from your spreadsheet and try again."


class CsvImportError(InvalidInput):
    """A file refused as a whole; the message says why and what to do instead."""


def decode(data: bytes) -> str:
    """The text of an uploaded file, whatever a spreadsheet saved it as; CsvImportError when it holds no text."""
    if not data:
        raise CsvImportError(EMPTY)
    if data.startswith(_WORKBOOK_SIGNATURES):
        raise CsvImportError(_WORKBOOK)
    text = _decoded_by_bom(data)
    if text is None:
        text = _decoded_utf16_without_bom(data)
    if text is None:
        text = _decoded_8bit(data)
    if "\x00" in text or _mostly_control(text):
        raise CsvImportError(_NOT_TEXT)
    return text


def _decoded_by_bom(data: bytes) -> str | None:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                raise CsvImportError(_UNREADABLE) from None
    return None


def _decoded_utf16_without_bom(data: bytes) -> str | None:
    # Some tools write UTF-16 without a BOM; ASCII text then has a NUL in every other byte.
    head = data[:4096]
    if len(data) % 2 or len(head) < 2:
        return None
    pairs = len(head) // 2
    even_nuls, odd_nuls = head[0::2].count(0), head[1::2].count(0)
    codec = "utf-16-le" if odd_nuls > pairs // 2 and not even_nuls else None
    codec = "utf-16-be" if even_nuls > pairs // 2 and not odd_nuls else codec
    if codec is None:
        return None
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _decoded_8bit(data: bytes) -> str:
    if b"\x00" in data:
        raise CsvImportError(_NOT_TEXT)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # Older Excel versions save "CSV" in the Windows code page; Latin-1 text is a subset of it in practice.
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise CsvImportError(_UNREADABLE) from None


def _mostly_control(text: str) -> bool:
    sample = text[:_SAMPLE_CHARS]
    controls = len(sample) - len(sample.translate(_CONTROL_CHARS))
    return controls * 100 > len(sample)
