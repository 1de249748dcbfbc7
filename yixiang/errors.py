"""Domain errors: a clear message in the user's language, and nothing changed."""

from __future__ import annotations


class DomainError(Exception):
    """A refused action. ``message`` is already translated; ``status`` is the HTTP status to use."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = str(message)
        if code:
            self.code = code
        self.field = field
        self.extra = extra or {}


class ValidationFailed(DomainError):
    status = 400
    code = "invalid"

    def __init__(self, errors: dict[str, list[str]], message: str | None = None, *, code: str | None = None):
        first = next((f"{k}: {v[0]}" for k, v in errors.items() if v), "")
        super().__init__(message or first or "invalid input", code=code, field=next(iter(errors), None))
        self.errors = errors


class Conflict(DomainError):
    status = 409
    code = "conflict"


class LimitReached(DomainError):
    status = 409
    code = "limit"


class NotFound(DomainError):
    """The row is absent or outside the actor's scope (the same answer, so existence does not
    leak). The API answers 404; views turn it into their 404 page."""

    status = 404
    code = "not_found"
