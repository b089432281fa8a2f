"""Domain errors: services raise them, pages turn them into clear messages."""

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """Base class; the message is safe and kind enough to show to the user."""


class NotAuthenticated(DomainError):
    def __init__(self, message: str = "Your session has ended. Please log in again.") -> None:
        super().__init__(message)


class PermissionDenied(DomainError):
    def __init__(self, message: str = "You do not have permission to do that.") -> None:
        super().__init__(message)


class NotFound(DomainError):
    pass


class InvalidInput(DomainError):
    pass


class LinkInvalid(DomainError):
    """Unknown, expired, deleted, replaced and used links all look the same to the visitor."""

    def __init__(self) -> None:
        super().__init__("This invitation link is not valid. It may have expired or been replaced; ask for a new one.")


class RateLimited(DomainError):
    pass


class FieldErrors(InvalidInput):
    """Input refused field by field ({field: message}, in the form's order): every problem at once, so the form
    can show each at its field."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(" ".join(fields.values()))
        self.fields = dict(fields)


def check_fields(**checks: Callable[[], T]) -> dict[str, T]:
    """Run every field's check and return their results; an InvalidInput from a check becomes that field's message
    (a FieldErrors keeps its own fields), and all of them are raised together."""
    results: dict[str, T] = {}
    problems: dict[str, str] = {}
    for name, check in checks.items():
        try:
            results[name] = check()
        except FieldErrors as problem:
            problems.update(problem.fields)
        except InvalidInput as problem:
            problems[name] = str(problem)
    if problems:
        raise FieldErrors(problems)
    return results
