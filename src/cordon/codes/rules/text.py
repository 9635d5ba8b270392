"""The words of a decision, in Chinese and English: why the code is what it is, and what
changes it. Dates are shown in the deployment's time zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from cordon.codes.rules.model import DAY, Colour, Rule, Text

COLOUR_NAMES: dict[str, Text] = {
    "red": Text("红码", "red"),
    "yellow": Text("黄码", "yellow"),
    "green": Text("绿码", "green"),
}


def _zh_date(moment: datetime, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.month}月{local.day}日{local:%H:%M}"


def _en_date(moment: datetime, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.day} {local:%b %H:%M}"


def _days(days: Sequence[int], zh: bool) -> str:
    if zh:
        return "、".join(f"第{d}天" for d in days)
    return ("day " if len(days) == 1 else "days ") + ", ".join(str(d) for d in days)


def green_reason() -> tuple[str, str]:
    return "无赋码规则适用", "no health-code rule applies"


def reason_text(
    rule: Rule,
    phase_index: int,
    anchor: datetime,
    start: datetime,
    end: datetime | None,
    missing: Sequence[int],
    now: datetime,
    tz: tzinfo,
) -> tuple[str, str]:
    phase = rule.phases[phase_index]
    zh = f"{rule.title.zh}（{_zh_date(anchor, tz)}起）：{phase.label.zh}"
    en = f"{rule.title.en} (since {_en_date(anchor, tz)}): {phase.label.en}"
    if phase.kind == "days":
        day = min((now - start).total_seconds() // DAY + 1, phase.days)
        zh += f"第{int(day)}天，共{phase.days}天"
        en += f", day {int(day)} of {phase.days}"
    overdue = end is not None and end <= now
    if overdue and missing:
        zh += (
            f"；期满但缺少{_days(missing, True)}的核酸阴性结果，保持{COLOUR_NAMES[phase.colour].zh}"
        )
        en += (
            f"; the period is over but the negative test for {_days(missing, False)}"
            f" is missing, so the code stays {phase.colour}"
        )
    elif missing:
        zh += f"；尚需{_days(missing, True)}核酸阴性"
        en += f"; negative tests still needed on {_days(missing, False)}"
    return zh, en


def conversion_text(
    colour: Colour,
    at: datetime | None,
    tz: tzinfo,
    needs: Sequence[int],
    ends_when: Text | None,
    then_days: int = 0,
) -> tuple[str, str]:
    """ "green on 29 Dec 10:00 if negative tests on days 7, 14", or, when a fact rather than
    the clock converts the code, "yellow 14 days after discharged"."""
    name = COLOUR_NAMES[colour]
    if at is not None:
        zh, en = f"{_zh_date(at, tz)}转为{name.zh}", f"{name.en} on {_en_date(at, tz)}"
        if needs:
            zh += f"（需{_days(needs, True)}核酸阴性）"
            en += f" if negative tests on {_days(needs, False)}"
        return zh, en
    conditions_zh, conditions_en = [], []
    if needs:
        conditions_zh.append(f"{_days(needs, True)}核酸阴性结果录入")
        conditions_en.append(f"negative tests on {_days(needs, False)} are recorded")
    if ends_when is not None:
        conditions_zh.append(ends_when.zh)
        conditions_en.append(ends_when.en)
    after_zh = f"后{then_days}天" if then_days else "后"
    after_en = f"{then_days} days after " if then_days else "once "
    return (
        f"待{'且'.join(conditions_zh)}{after_zh}转为{name.zh}",
        f"{name.en} {after_en}{' and '.join(conditions_en)}",
    )
