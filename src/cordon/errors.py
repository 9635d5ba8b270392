"""Domain errors and their one mapping to HTTP status codes and CLI messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Problem:
    """One thing wrong with the input: where (field or row) and why."""

    field: str
    message: str
    row: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "message": self.message}
        if self.row is not None:
            out["row"] = self.row
        return out


class CordonError(Exception):
    """Base of every error a user can cause; carries its HTTP status.

    ``denied``, when given, is an attempt on a record outside the actor's reach that the answer
    does not reveal: the app audits it in its own transaction after the request's rollback."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        problems: list[Problem] | None = None,
        denied: DeniedAccess | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []
        self.denied = denied

    def as_dict(self) -> dict[str, Any]:
        return {
            "error": self.code,
            "message": self.message,
            "problems": [p.as_dict() for p in self.problems],
        }


class ValidationFailed(CordonError):
    status_code = 422
    code = "validation_failed"


class NotFound(CordonError):
    status_code = 404
    code = "not_found"


class Forbidden(CordonError):
    status_code = 403
    code = "forbidden"


class Unauthorized(CordonError):
    status_code = 401
    code = "unauthorized"


class Conflict(CordonError):
    status_code = 409
    code = "conflict"


class TooLarge(CordonError):
    status_code = 413
    code = "too_large"


class TooManyAttempts(CordonError):
    status_code = 429
    code = "too_many_attempts"

    def __init__(
        self, message: str, *, problems: list[Problem] | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message, problems=problems)
        self.retry_after = retry_after


@dataclass
class DeniedAccess:
    """An attempt to reach a record outside the actor's reach, to be audited even though the
    request's own transaction is rolled back."""

    user_id: int | None
    username: str
    action: str
    entity: str
    entity_id: str
    detail: dict[str, Any] = field(default_factory=dict)


class OutOfJurisdiction(NotFound):
    """Answered as 404 so that the record's existence does not leak, but audited as denied."""

    def __init__(
        self, message: str, *, denied: DeniedAccess, problems: list[Problem] | None = None
    ) -> None:
        super().__init__(message, problems=problems, denied=denied)
        self.denied: DeniedAccess = denied
