"""Email address checking: one place that says whether an address is acceptable, and how to compare two."""

import functools
import unicodedata

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES, DOT_ATOM_TEXT

from services.errors import InvalidInput

MAX_LENGTH = 254
MAX_LOCAL_LENGTH = 64
_DISPLAY_CHARS = 60
_LOOK_ALIKE_AT_SIGNS = ("\uff20", "\ufe6b")  # the validator explains the look-alikes itself
_CHAR_NAMES = {"\n": "line break", "\r": "line break", "\t": "tab", "\x00": "NUL"}
_FORMULA_STARTS = ("=", "+", "-")  # with "@", what a spreadsheet runs as a formula; "@..." has no local part
_LOOK_ALIKE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")  # letters that imitate each other ("а" and "a")
_DOMAIN_DETAILS = (
    ("should have a period", "it needs a dot, as in example.org"),
    ("special-use or reserved", "it is a reserved name that cannot receive email"),
    ("top-level domain", "it does not end in a valid top-level domain"),
    ("too long", "it is too long"),
    ("so many characters", "one of its parts is too long"),
    ("two dashes", "it cannot have two dashes after the first two letters of a part, as in ab--c"),
    ("hyphen", "it cannot start or end with a hyphen, or have one next to a dot"),
    ("period", "it cannot start or end with a dot, or have two dots in a row"),
)


class InvalidEmail(InvalidInput):
    """An address that cannot be used; the message is the reason, fit to show next to the address."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def normalise(raw: str) -> str:
    """Return the address in its normal form (domain lower-cased), or raise InvalidEmail with the reason."""
    text = _prechecked(raw)
    local, _, domain = text.rpartition("@")
    if domain and DOT_ATOM_TEXT.match(local):
        normalised = _with_checked_domain(text, local, domain)
    else:
        try:
            normalised = validate_email(text, check_deliverability=False, allow_smtputf8=False).normalized
        except EmailNotValidError as error:
            raise InvalidEmail(_reason(str(error))) from None
    domain = normalised.rpartition("@")[2]
    if not domain.isascii() and (scripts := _mixed_scripts(domain)):
        raise InvalidEmail(
            f"the domain “{for_display(domain)}” mixes {scripts} letters, as look-alike domains do; "
            "check the address with its owner"
        )
    return normalised


def canonical(address: str) -> str:
    """Return the key under which two spellings of one address compare equal."""
    return unicodedata.normalize("NFKC", address).lower()


def validate_many(raws: list[str]) -> list[tuple[str, str | None, str | None]]:
    """Check each address: (raw, normalised or None, reason or None), in the given order."""
    results: list[tuple[str, str | None, str | None]] = []
    for raw in raws:
        try:
            results.append((raw, normalise(raw), None))
        except InvalidEmail as error:
            results.append((raw, None, error.reason))
    return results


def for_display(value: str, limit: int = _DISPLAY_CHARS) -> str:
    """Return value safe to show: control and invisible characters replaced, shortened with an ellipsis."""
    if not value.isprintable():
        value = "".join(c if c.isprintable() or c == " " else "\ufffd" for c in value)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _with_checked_domain(text: str, local: str, domain: str) -> str:
    # Imports of many rows share a few domains: checking each domain once, and a plain local part with the
    # validator's own pattern, gives the validator's answer at a fraction of its cost.
    unicode_domain, ascii_domain, problem = _checked_domain(domain)
    if problem is not None:
        raise InvalidEmail(f"the domain “{for_display(domain)}” is not valid: {problem}")
    if local.lower() in CASE_INSENSITIVE_MAILBOX_NAMES:
        local = local.lower()
    normalised = f"{local}@{unicode_domain}"
    if any(len(form.encode()) > MAX_LENGTH for form in (text, normalised, f"{local}@{ascii_domain}")):
        raise InvalidEmail(f"is too long (at most {MAX_LENGTH} characters)")
    return normalised


@functools.lru_cache(maxsize=4096)
def _checked_domain(domain: str) -> tuple[str, str, str | None]:
    try:
        checked = validate_email(f"a@{domain}", check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        return "", "", _domain_detail(str(error))
    return checked.domain, checked.ascii_domain, None


def _prechecked(raw: str) -> str:
    control = _control_char(raw)
    if control:
        raise InvalidEmail(f"contains a control or invisible character ({control})")
    text = raw.strip()
    if not text:
        raise InvalidEmail("is empty")
    if len(text) > MAX_LENGTH:
        raise InvalidEmail(f"is too long (at most {MAX_LENGTH} characters)")
    if "@" not in text and not any(at in text for at in _LOOK_ALIKE_AT_SIGNS):
        raise InvalidEmail("missing @")
    if "<" in text or ">" in text:
        raise InvalidEmail("contains angle brackets; enter only the address, as in name@example.org")
    if len(text.split(maxsplit=1)) > 1:
        raise InvalidEmail("contains spaces")
    if '"' in text:
        raise InvalidEmail("contains quotation marks, which are not supported")
    if text.startswith(_FORMULA_STARTS):
        raise InvalidEmail(f"starts with “{text[0]}”, which a spreadsheet would run as a formula")
    local, at, _ = text.rpartition("@")
    if at and len(local) > MAX_LOCAL_LENGTH:
        raise InvalidEmail(f"the part before the @ is too long (at most {MAX_LOCAL_LENGTH} characters)")
    return text


@functools.lru_cache(maxsize=1024)
def _mixed_scripts(domain: str) -> str:
    """“Latin and Cyrillic” when one label mixes letters of scripts that imitate each other; "" otherwise."""
    for label in domain.split("."):
        scripts = {unicodedata.name(c, "").split(" ", 1)[0] for c in label if c.isalpha()}
        mixed = sorted(scripts.intersection(_LOOK_ALIKE_SCRIPTS))
        if len(mixed) > 1:
            return " and ".join(name.title() for name in mixed)
    return ""


def _control_char(raw: str) -> str | None:
    if raw.isprintable():
        return None
    for c in raw:
        category = unicodedata.category(c)
        if category[0] == "C" or category in ("Zl", "Zp"):
            return _CHAR_NAMES.get(c, f"U+{ord(c):04X}")
    return None


def _reason(message: str) -> str:
    if "must have an @-sign" in message:
        return "missing @"
    if "something before the @-sign" in message:
        return "nothing before the @"
    if "something after the @-sign" in message:
        return "the domain after the @ is missing"
    if "Internationalized characters before the @-sign" in message:
        return "letters with accents or other non-ASCII characters before the @ are not supported"
    return _sentence(message)


def _domain_detail(message: str) -> str:
    for fragment, detail in _DOMAIN_DETAILS:
        if fragment in message:
            return detail
    return _sentence(message.replace("The part after the @-sign", "it"))


def _sentence(message: str) -> str:
    message = message.strip().rstrip(".")
    return message[:1].lower() + message[1:]
