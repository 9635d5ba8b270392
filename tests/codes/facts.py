"""Building facts for health-code tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2021, 12, 15, 10, 0, tzinfo=SHANGHAI)


@dataclass(frozen=True)
class F:
    kind: str
    at: datetime
    attrs: dict[str, object] = field(default_factory=dict)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def fact(kind: str, at_day: float, **attrs: object) -> F:
    return F(kind, day(at_day), dict(attrs))


def negative(at_day: float) -> F:
    return fact("test", at_day, result="negative", method="single")


def negatives(*days: float) -> list[F]:
    return [negative(d) for d in days]
