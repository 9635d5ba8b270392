"""What page routes share for forms and lists: input errors as Problems, and pagination."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from cordon.errors import Problem, pydantic_problem


def problems_of(exc: ValidationError) -> list[Problem]:
    """Pydantic's errors as the same Problems the services raise, keyed by form field."""
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error.get("loc", ())) or "form"
        problems.append(pydantic_problem(field, error))
    return problems


def blank_to_none(values: dict[str, str]) -> dict[str, str]:
    """Stripped values without the empty ones: an empty form field means "not given"."""
    return {key: value.strip() for key, value in values.items() if value and value.strip()}


@dataclass(frozen=True)
class Pager:
    page: int
    size: int
    total: int = 0

    @classmethod
    def of(cls, page: int, size: int) -> Pager:
        return cls(page=max(1, page), size=size)

    def with_total(self, total: int) -> Pager:
        return Pager(page=self.page, size=self.size, total=total)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        """Number of the first row shown (1-based), 0 when there are none."""
        return min(self.offset + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.offset + self.size, self.total)
