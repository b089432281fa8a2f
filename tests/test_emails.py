"""Email address checking: what is accepted, how it is normalised, and the reasons given for refusals."""

import pytest
from email_validator import EmailNotValidError, validate_email

from services.errors import InvalidInput
from services.invitations import addresses as emails


def reason_for(raw: str) -> str:
    with pytest.raises(emails.InvalidEmail) as caught:
        emails.normalise(raw)
    return caught.value.reason


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("jane@example.org\r\nBcc: all@example.org", "line break"),
        ("jane@example.org\nBcc: all@example.org", "line break"),
        ("jane@example.org\r", "line break"),
        ("jane\x00@example.org", "NUL"),
        ("jane@example.org\x00", "NUL"),
        ("jane\t@example.org", "tab"),
        ("jane@exam\u202eple.org", "U+202E"),
        ("jane\u200b@example.org", "U+200B"),
    ],
)
def test_control_and_invisible_characters_are_refused_before_validation(raw: str, name: str) -> None:
    assert reason_for(raw) == f"contains a control or invisible character ({name})"


def test_markup_in_the_local_part_is_refused() -> None:
    assert "angle brackets" in reason_for("<script>@x.com")
    assert "angle brackets" in reason_for("<script>alert(1)</script>@example.org")


def test_display_names_and_quoted_local_parts_are_refused() -> None:
    assert "angle brackets" in reason_for("Jane Doe <jane@example.org>")
    assert "angle brackets" in reason_for("<jane@example.org>")
    assert reason_for('"jane doe"@example.org') == "contains spaces"
    assert "quotation marks" in reason_for('"jane"@example.org')


def test_local_part_longer_than_64_characters_is_refused() -> None:
    assert emails.normalise("a" * 64 + "@example.org") == "a" * 64 + "@example.org"
    assert reason_for("a" * 65 + "@example.org") == "the part before the @ is too long (at most 64 characters)"


def test_over_long_domains_are_refused() -> None:
    long_label = "b" * 64 + ".org"
    assert (
        reason_for(f"jane@{long_label}")
        == f"the domain “{long_label[:59]}…” is not valid: one of its parts is too long"
    )
    long_domain = ".".join(["c" * 60] * 5) + ".org"
    assert reason_for(f"jane@{long_domain}") == "is too long (at most 254 characters)"
    idn_domain = ".".join(["ü" * 40] * 5) + ".de"
    assert reason_for(f"jane@{idn_domain}").endswith("is not valid: it is too long")


def test_internationalised_domain_is_accepted_in_unicode_form() -> None:
    assert emails.normalise("anna@Bücher.DE") == "anna@bücher.de"
    assert emails.normalise("anna@xn--bcher-kva.de") == "anna@bücher.de"


def test_domain_is_lower_cased_and_local_part_kept_as_written() -> None:
    assert emails.normalise("  Jane.Doe@Example.ORG ") == "Jane.Doe@example.org"


def test_same_address_in_different_case_has_one_canonical_key() -> None:
    first = emails.normalise("Jane.Doe@Example.org")
    second = emails.normalise("jane.doe@EXAMPLE.ORG")
    assert first != second
    assert emails.canonical(first) == emails.canonical(second) == "jane.doe@example.org"


def test_canonical_key_folds_compatibility_forms() -> None:
    assert emails.canonical("Jane@ｅxample.org") == "jane@example.org"


def test_cyrillic_look_alike_domain_is_refused_but_a_wholly_cyrillic_domain_is_a_different_domain() -> None:
    # "а" below is CYRILLIC SMALL LETTER A: a valid IDN that imitates example.org (see docs/SECURITY.md).
    assert validate_email("jane@ex\u0430mple.org", check_deliverability=False).ascii_email == "jane@xn--exmple-4nf.org"
    with pytest.raises(emails.InvalidEmail, match="mixes Cyrillic and Latin letters"):
        emails.normalise("jane@ex\u0430mple.org")
    cyrillic = emails.normalise("jane@\u043f\u0440\u0438\u043c\u0435\u0440.org")
    assert emails.canonical(cyrillic) != emails.canonical(emails.normalise("jane@example.org"))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("jane.example.org", "missing @"),
        ("Jane Doe", "missing @"),
        ("jane doe@example.org", "contains spaces"),
        ("", "is empty"),
        ("   ", "is empty"),
        ("@example.org", "nothing before the @"),
        ("jane@", "the domain after the @ is missing"),
        ("jane@localhost", "the domain “localhost” is not valid: it needs a dot, as in example.org"),
        (
            "jane@example..org",
            "the domain “example..org” is not valid: it cannot start or end with a dot, or have two dots in a row",
        ),
        ("jane@host.local", "the domain “host.local” is not valid: it is a reserved name that cannot receive email"),
        ("jane@example.123", "the domain “example.123” is not valid: it does not end in a valid top-level domain"),
        ("jörg@example.org", "letters with accents or other non-ASCII characters before the @ are not supported"),
        ("jane..doe@example.org", "an email address cannot have two periods in a row"),
        ("a" * 250 + "@example.org", "is too long (at most 254 characters)"),
    ],
)
def test_refusals_give_a_precise_reason(raw: str, reason: str) -> None:
    assert reason_for(raw) == reason


def test_full_width_at_sign_is_explained() -> None:
    assert "full-width" in reason_for("jane＠example.org")


def test_invalid_email_is_invalid_input_with_the_reason_as_message() -> None:
    with pytest.raises(InvalidInput, match=r"^missing @$"):
        emails.normalise("nobody")


def test_validate_many_keeps_order_and_reports_each() -> None:
    assert emails.validate_many(["Jane@Example.org", "nope", "bob@example.org"]) == [
        ("Jane@Example.org", "Jane@example.org", None),
        ("nope", None, "missing @"),
        ("bob@example.org", "bob@example.org", None),
    ]


@pytest.mark.parametrize(
    "raw",
    [
        "a@example.org",
        "PostMaster@Example.org",
        "Info@example.org",
        "a!#$%&'*+/=?^_`{|}~-@example.org",
        "a.b.c@sub.example.co.uk",
        "a@ab--c.com",
        "a@xn--zz.com",
        "a@Xn--bcher-kva.de",
        "a@-example.org",
        "a@example-.org",
        "a@example.org.",
        "a@x_y.org",
        "a@ｘ.org",
        "a@a.arpa",
        "a@example.invalid",
        "a@[192.0.2.1]",
        "a@é.fr",
        "x" * 64 + "@" + "b" * 63 + ".org",
    ],
)
def test_normalise_agrees_with_email_validator(raw: str) -> None:
    try:
        expected: str | None = validate_email(raw, check_deliverability=False, allow_smtputf8=False).normalized
    except EmailNotValidError:
        expected = None
    actual = emails.validate_many([raw])[0][1]
    assert actual == expected


def test_for_display_replaces_control_characters_and_shortens() -> None:
    assert emails.for_display("a\r\nb\x00c") == "a\ufffd\ufffdb\ufffdc"
    assert emails.for_display("x" * 100, limit=10) == "x" * 9 + "…"
    assert emails.for_display("jane@example.org") == "jane@example.org"
