"""The CSV import parser against awkward real-world files, built here byte by byte."""

import codecs
from datetime import UTC, datetime

import pytest

from services.errors import DomainError, InvalidInput
from services.invitations.csv_import import CsvImportError, ImportResult, LineProblem, parse, parse_file, refused_upload


def refusal(data: bytes, **limits: int) -> str:
    with pytest.raises(CsvImportError) as caught:
        parse(data=data, **limits)
    return str(caught.value)


def test_excel_export_with_bom_semicolons_and_header() -> None:
    data = codecs.BOM_UTF8 + "E-mail;Name\r\njane@example.org;Jane\r\nbob@example.org;Bøb\r\n".encode()
    assert parse(data=data) == ImportResult(
        addresses=["jane@example.org", "bob@example.org"], problems=[], total_rows=2
    )


@pytest.mark.parametrize("bom, codec", [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")])
def test_utf16_unicode_text_with_tabs(bom: bytes, codec: str) -> None:
    text = "Email Address\tName\tRole\r\njane@example.org\tDoe, Jane\tNurse\r\nmüller@example.org\tMüller\t\r\n"
    result = parse(data=bom + text.encode(codec))
    assert result.addresses == ["jane@example.org"]
    assert [(p.line, p.value) for p in result.problems] == [(3, "müller@example.org")]
    assert "non-ASCII" in result.problems[0].reason


def test_utf16_without_bom_is_recognised() -> None:
    data = "email\njane@example.org\n".encode("utf-16-le")
    assert parse(data=data).addresses == ["jane@example.org"]


def test_quoted_cells_with_commas_and_quotes() -> None:
    data = b'email,name\njane@example.org,"Doe, Jane"\n"bob@example.org","Bob ""BB"" Roe, Jr"\n'
    result = parse(data=data)
    assert result.addresses == ["jane@example.org", "bob@example.org"]
    assert result.problems == []


def test_semicolon_file_with_quoted_commas_is_split_on_semicolons() -> None:
    data = b'jane@example.org;"Doe, Jane"\nbob@example.org;"Roe, Bob"\n'
    assert parse(data=data).addresses == ["jane@example.org", "bob@example.org"]


def test_trailing_spaces_are_trimmed() -> None:
    data = b"  jane@example.org   ,Jane  \n\tbob@example.org\t,Bob\n"
    assert parse(data=data).addresses == ["jane@example.org", "bob@example.org"]


@pytest.mark.parametrize("ending", [b"\r\n", b"\n", b"\r"])
def test_line_endings_and_blank_lines_keep_line_numbers(ending: bytes) -> None:
    lines = [b"email", b"a@example.org", b"", b"  ", b",,", b"not-an-address", b"", b"b@example.org"]
    result = parse(data=ending.join(lines) + ending)
    assert result.addresses == ["a@example.org", "b@example.org"]
    assert result.problems == [LineProblem(line=6, value="not-an-address", reason="missing @")]
    assert result.total_rows == 3


def test_duplicates_differing_only_by_case_are_reported() -> None:
    data = b"jane@example.org\nbob@example.org\nJANE@Example.ORG\njane@example.org\n"
    result = parse(data=data)
    assert result.addresses == ["jane@example.org", "bob@example.org"]
    assert [(p.line, p.value, p.reason) for p in result.problems] == [
        (3, "JANE@Example.ORG", "duplicate of line 1"),
        (4, "jane@example.org", "duplicate of line 1"),
    ]


def test_formula_cells_are_reported_and_never_returned() -> None:
    data = b'=HYPERLINK("http://evil.example","x")\n+1-2\n-3+4\n@SUM(A1)\nJane <=cmd@example.org>\nok@example.org\n'
    result = parse(data=data)
    assert result.addresses == ["ok@example.org"]
    assert [p.line for p in result.problems] == [1, 2, 3, 4, 5]
    assert {p.reason for p in result.problems} == {"looks like a spreadsheet formula"}


def test_name_and_address_cells_give_the_address() -> None:
    data = b'Jane Doe <jane@example.org>\n"Roe, Bob" <bob@example.org>,x\n<ann@example.org>\n"Eve <eve@example.org"\n'
    result = parse(data=data)
    assert result.addresses == ["jane@example.org", "bob@example.org", "ann@example.org"]
    assert [(p.line, p.value) for p in result.problems] == [(4, "Eve <eve@example.org")]
    assert "angle brackets" in result.problems[0].reason


def test_only_the_first_column_counts() -> None:
    data = b"email,other\njane@example.org,bob@example.org\nJane Doe,ann@example.org\n,carl@example.org\n"
    result = parse(data=data)
    assert result.addresses == ["jane@example.org"]
    assert [(p.line, p.reason) for p in result.problems] == [(3, "missing @"), (4, "the first column is empty")]


@pytest.mark.parametrize("header", ["email", "E-mail address", "Email Address", "mail", "E-Mail-Adresse", '"Email"'])
def test_header_rows_are_skipped_silently(header: str) -> None:
    result = parse(data=f"{header},Name\njane@example.org,Jane\n".encode())
    assert result == ImportResult(addresses=["jane@example.org"], problems=[], total_rows=1)


def test_a_first_row_that_is_not_a_header_is_reported() -> None:
    result = parse(data=b"Name,Email\njane@example.org,x\n")
    assert result.problems == [LineProblem(line=1, value="Name", reason="missing @")]
    mistyped = parse(data=b"jane.gmail.com\nbob@example.org\n")
    assert mistyped.problems == [LineProblem(line=1, value="jane.gmail.com", reason="missing @")]


def test_header_only_file_gives_nothing_and_no_problems() -> None:
    assert parse(data=b"\xef\xbb\xbfEmail;Name\r\n") == ImportResult(addresses=[], problems=[], total_rows=0)


def test_windows_1252_file_is_read() -> None:
    data = "E-mail;Name\r\njane@müller.de;Jäne Müller\r\n".encode("cp1252")
    assert parse(data=data).addresses == ["jane@müller.de"]


def test_problem_values_are_safe_to_show() -> None:
    data = b'"bad\x0bcell@example.org"\n"' + b"x" * 300 + b'"\n'
    first, second = parse(data=data).problems
    assert first.value == "bad\ufffdcell@example.org"
    assert first.reason == "contains a control or invisible character (U+000B)"
    assert len(second.value) == 60 and second.value.endswith("…")


def test_quoted_line_break_in_the_first_cell_is_reported() -> None:
    result = parse(data=b'"jane@example.org\nBcc: all@example.org",x\nbob@example.org\n')
    assert result.addresses == ["bob@example.org"]
    assert result.problems[0].line == 1
    assert "line break" in result.problems[0].reason
    assert "\n" not in result.problems[0].value


def test_large_file_of_100_000_rows() -> None:
    rows = "".join(f"user{i}@site{i % 40}.example.org,User {i},Ward {i % 7}\r\n" for i in range(100_000))
    result = parse(data=("Email,Name,Ward\r\n" + rows + "USER5@SITE5.example.org,dup,\r\n").encode())
    assert len(result.addresses) == 100_000
    assert result.addresses[-1] == "user99999@site39.example.org"
    assert result.total_rows == 100_001
    assert result.problems == [LineProblem(line=100_002, value="USER5@SITE5.example.org", reason="duplicate of line 7")]


def test_empty_files_are_refused() -> None:
    for data in (b"", b"\r\n \n", codecs.BOM_UTF8, codecs.BOM_UTF16_LE):
        assert refusal(data).startswith("The file is empty.")


def test_file_over_the_size_limit_is_refused() -> None:
    assert refusal(b"jane@example.org\n" * 200, max_bytes=2048) == (
        "The file is too large (3.3 KB). The limit is 2 KB."
    )


def test_too_many_rows_are_refused() -> None:
    data = b"email\n" + b"".join(b"u%d@example.org\n" % i for i in range(11))
    assert refusal(data, max_rows=10).startswith("The file has more than 10 rows.")
    assert len(parse(data=data, max_rows=11).addresses) == 11


def test_endless_line_is_refused() -> None:
    assert refusal(b"jane@example.org\n" + b"a" * 200_000).startswith("Line 2 is longer than 10,000 characters")
    assert refusal(b"jane@example.org\n" + b"," * 20_000 + b"\n").startswith("Line 2 is longer")
    assert refusal(b"x" * 101 + b"\n", max_line_chars=100).startswith("Line 1 is longer than 100 characters")


def test_unclosed_quote_swallowing_the_file_is_refused() -> None:
    data = b'jane@example.org\n"bob@example.org,Bob\n' + b"ann@example.org\n" * 1000
    assert refusal(data).startswith('Line 2 opens a quotation mark (") that is never closed')


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
        b"jane@example.org\n\x00\x01\x02\x03",
        bytes(range(1, 32)) * 10,
    ],
)
def test_binary_files_are_refused(data: bytes) -> None:
    assert refusal(data).startswith("This file does not contain text")


@pytest.mark.parametrize("data", [b"PK\x03\x04\x14\x00\x06\x00", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00"])
def test_workbooks_are_refused_with_advice(data: bytes) -> None:
    assert "CSV UTF-8" in refusal(data)


def test_undecodable_text_is_refused() -> None:
    assert refusal(b"jane@example.org\n\x81\x8d\x90\x9d@example.org\n").startswith("The file’s characters could not")
    assert refusal(codecs.BOM_UTF8 + b"jane@example.org\n\xff\n").startswith("The file’s characters could not")


def test_refusals_are_domain_errors() -> None:
    assert issubclass(CsvImportError, InvalidInput) and issubclass(CsvImportError, DomainError)


@pytest.mark.parametrize(
    "name, told",
    [
        ("staff.xlsx", "“staff.xlsx” is an Excel workbook: save it as “CSV UTF-8” from your spreadsheet"),
        ("Staff.XLS", "“Staff.XLS” is an Excel workbook"),
        ("list.ods", "“list.ods” is an OpenDocument spreadsheet"),
        ("list.pdf", "“list.pdf” is a PDF document, not a list of addresses: choose a .csv, .txt or .tsv file."),
        ("photo.png", "“photo.png” is not a .csv, .txt or .tsv file."),
    ],
)
def test_a_file_that_is_not_text_is_told_what_it_is_and_what_to_do(name: str, told: str) -> None:
    with pytest.raises(CsvImportError) as caught:
        parse_file(data=b"jane@example.org\n", name=name)
    assert str(caught.value).startswith(told)
    assert refused_upload(name=name, too_large=True).startswith(told)  # the kind matters more than the size


@pytest.mark.parametrize("name", ["staff.csv", "staff.TXT", "staff.tsv"])
def test_text_files_are_read_and_a_big_one_is_told_its_size(name: str) -> None:
    assert parse_file(data=b"jane@example.org\n", name=name).addresses == ["jane@example.org"]
    assert refused_upload(name=name, too_large=True) == f"“{name}” is larger than 10 MB: split it into smaller files."


def test_addresses_in_another_column_are_pointed_at_instead_of_a_missing_at_on_every_line() -> None:
    told = refusal(b"Name;Department;E-mail\nJane;Cardiology;jane@example.org\nBob;Wards;bob@example.org\n")
    assert told.startswith("The email addresses are in column 3 (“E-mail”), not in the first column.")
    assert refusal(b"Jane,jane@example.org\nBob,bob@example.org\n").startswith(
        "The email addresses are in column 2, not in the first column."
    )
    mostly_first = parse(data=b"jane@example.org,x@example.org\nnot-an-address,y@example.org\n")
    assert mostly_first.addresses == ["jane@example.org"]  # the first column holds addresses: it is the one read


def test_a_second_column_of_dates_gives_each_line_its_own_end_and_a_non_date_is_a_line_problem() -> None:
    data = "Email,Access ends\nann@x.org,2027-03-31\nBob@x.org,2027-04-01 17:30\ncy@x.org,\ndi@x.org,next week\n"
    result = parse(data=data.encode())
    assert result.addresses == ["ann@x.org", "Bob@x.org", "cy@x.org"]
    assert result.ends == {"ann@x.org": datetime(2027, 3, 31, 23, 59), "bob@x.org": datetime(2027, 4, 1, 17, 30)}
    [problem] = result.problems
    assert (problem.line, problem.value) == (5, "next week")
    assert problem.reason == "the end of access “next week” is not a date: write it as 2027-03-31 or 2027-03-31 17:00"


def test_dates_without_a_heading_are_ends_and_any_other_second_column_is_ignored_as_before() -> None:
    dated = parse(data=b"ann@x.org;2027-03-31T09:00+01:00\nbob@x.org;2027-03-31\n")
    named = parse(data=b"Email,Attendee name\nann@x.org,Ann\nbob@x.org,2027\n")
    assert dated.ends["ann@x.org"] == datetime(2027, 3, 31, 8, 0, tzinfo=UTC)
    assert named.addresses == ["ann@x.org", "bob@x.org"] and named.ends == {} and named.problems == []
