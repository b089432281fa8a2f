"""Domain errors: services raise them, pages turn them into clear messages."""


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
