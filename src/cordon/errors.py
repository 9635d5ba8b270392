"""Domain errors and their one mapping to HTTP status codes and CLI messages.

Messages are English. One that carries values is written as a template with ``params``
(``NotFound("no case %(case_id)s", params=dict(case_id=7))``): ``message`` is the English text
and ``template`` the catalog key that pages and API answers translate (``web.messages``).
Literal messages given to these classes are extracted into the catalog (see the Makefile).
Validators and pure rules raise ``Invalid``, a ``ValueError`` keyed the same way, so a refused
value is translated too, wherever Pydantic or a service reports it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final


def N_(message: str) -> str:
    """Mark a message for the catalog (pybabel extracts N_ calls); translated where shown."""
    return message


# Pydantic's messages by error type, with its context values as params.
PYDANTIC: Final[Mapping[str, str]] = {
    "missing": N_("Field required"),
    "string_too_short": N_("String should have at least %(min_length)s characters"),
    "string_too_long": N_("String should have at most %(max_length)s characters"),
    "string_pattern_mismatch": N_("String should match pattern '%(pattern)s'"),
    "string_type": N_("Input should be a valid string"),
    "int_parsing": N_("Input should be a valid integer"),
    "int_from_float": N_("Input should be a valid integer"),
    "float_parsing": N_("Input should be a valid number"),
    "bool_parsing": N_("Input should be a valid boolean"),
    "less_than": N_("Input should be less than %(lt)s"),
    "less_than_equal": N_("Input should be less than or equal to %(le)s"),
    "greater_than": N_("Input should be greater than %(gt)s"),
    "greater_than_equal": N_("Input should be greater than or equal to %(ge)s"),
    "datetime_parsing": N_("Input should be a valid datetime"),
    "datetime_from_date_parsing": N_("Input should be a valid datetime or date"),
    "datetime_type": N_("Input should be a valid datetime"),
    "date_parsing": N_("Input should be a valid date"),
    "date_from_datetime_parsing": N_("Input should be a valid date"),
    "literal_error": N_("Input should be %(expected)s"),
    "enum": N_("Input should be %(expected)s"),
    "too_short": N_("List should have at least %(min_length)s items"),
    "too_long": N_("List should have at most %(max_length)s items"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
    "json_invalid": N_("Invalid JSON"),
    "dict_type": N_("Input should be a valid dictionary"),
    "list_type": N_("Input should be a valid list"),
}


def pydantic_key(error: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """A Pydantic error's catalog key and values (``("", {})`` when it has none)."""
    kind = str(error.get("type", ""))
    context = dict(error.get("ctx") or {})
    if kind == "value_error" and "error" in context:
        # Our own validators' messages ("Value error, <message>"): Pydantic keeps the raised
        # exception, whose key and values an Invalid carries; another's message is the key.
        raised = context["error"]
        if isinstance(raised, Invalid):
            return raised.template or raised.message, raised.params
        return str(raised), {}
    template = PYDANTIC.get(kind, "")
    return template, ({k: str(v) for k, v in context.items()} if template else {})


def pydantic_problem(field: str, error: Mapping[str, Any]) -> Problem:
    """One Pydantic error as a Problem whose text pages can translate."""
    template, params = pydantic_key(error)
    return Problem(field, str(error.get("msg", "")), template=template, params=params)


class Invalid(ValueError):
    """A value refused by a validator or a pure rule, keyed like ``CordonError``: ``str()`` is
    the English text, ``template`` the catalog key and ``params`` its values. Raised inside a
    Pydantic validator, it reaches pages and API answers translated (``pydantic_key``)."""

    def __init__(self, message: str, *, params: dict[str, Any] | None = None) -> None:
        text = message % params if params is not None else message
        super().__init__(text)
        self.message = text
        self.template = message if params is not None else ""
        self.params = params or {}

    def as_problem(self, field: str, row: int | None = None) -> Problem:
        params = self.params if self.template else None
        return Problem(field, self.message, row=row, params=params, template=self.template)

    def as_error(self, field: str) -> ValidationFailed:
        """The refusal of a request with this value in ``field``."""
        return ValidationFailed(
            self.template or self.message,
            params=self.params if self.template else None,
            problems=[self.as_problem(field)],
        )


@dataclass
class Problem:
    """One thing wrong with the input: where (field or row) and why."""

    field: str
    message: str
    row: int | None = None
    # dataclasses.field: the name ``field`` is this class's first attribute.
    params: dict[str, Any] | None = dataclasses.field(default=None, compare=False)
    template: str = dataclasses.field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.params is not None and not self.template:
            self.template = self.message
            self.message = self.message % self.params

    def __str__(self) -> str:
        # A Problem may stand as a param inside another message: its text there in English,
        # translated with it where the outer message is (web.messages.translated).
        return self.message

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
        params: dict[str, Any] | None = None,
    ) -> None:
        text = message % params if params is not None else message
        super().__init__(text)
        self.message = text
        self.template = message if params is not None else ""
        self.params = params or {}
        self.problems = problems or []
        self.denied = denied

    def as_problem(self, field: str) -> Problem:
        """The error itself as a problem of one field, keeping its catalog key."""
        return Problem(field, self.message, params=self.params, template=self.template)

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
        self,
        message: str,
        *,
        problems: list[Problem] | None = None,
        params: dict[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message, problems=problems, params=params)
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
        self,
        message: str,
        *,
        denied: DeniedAccess,
        problems: list[Problem] | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, problems=problems, denied=denied, params=params)
        self.denied: DeniedAccess = denied
