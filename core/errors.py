"""Domain errors: each message says what went wrong and what to do."""

from config.errors import OfisiError


class NotFound(OfisiError):
    pass


class PermissionDenied(OfisiError):
    pass


class InvalidInput(OfisiError):
    """A value a person typed or imported is not acceptable."""

    exit_code = 1


class Conflict(OfisiError):
    """The change clashes with something that already exists."""


class AuthenticationFailed(OfisiError):
    pass


class AccountLocked(AuthenticationFailed):
    pass


__all__ = [
    "AccountLocked",
    "AuthenticationFailed",
    "Conflict",
    "InvalidInput",
    "NotFound",
    "OfisiError",
    "PermissionDenied",
]
