"""Service and validation messages in the user's language.

Services speak English. A message that carries values is raised as a template with params
(``cordon.errors``), so the template is the catalog key and the values are put in after
translation; literal messages given to the error classes and ``Problem`` are extracted into
the catalog by name (the Makefile's ``i18n`` keywords). Pydantic's own messages are keyed by
their error type (``cordon.errors.PYDANTIC``), our validators' by the ``Invalid`` they raise.
A message the catalog does not know is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from cordon.errors import CordonError, Problem
from cordon.web.i18n import N_

Gettext = Callable[[str], str]

# The functions whose literal first (or, for Problem, second) argument is a user message.
EXTRACT_KEYWORDS: Final = (
    "CordonError:1",
    "ValidationFailed:1",
    "NotFound:1",
    "Forbidden:1",
    "Unauthorized:1",
    "Conflict:1",
    "TooLarge:1",
    "TooManyAttempts:1",
    "OutOfJurisdiction:1",
    "LoginRequired:1",
    "Problem:2",
    "fail:3",  # screening.labs: a lab file row's problem
    "IdNumberError:2",
    "TokenRefused:1",
    "NoStartOfWindow:1",
    "Invalid:1",  # a validator's or a pure rule's refusal (cordon.errors)
    "BadDivisionCode:1",
    "PhoneError:1",
    "LakeExists:1",
)

SERVICE_MESSAGES = (
    N_("must not be blank"),
    N_("already taken"),
    N_("already registered"),
    N_("column missing"),
    N_("this identity number cannot be registered here; search for the person"),
    N_("give a division code or a grid code"),
    N_("give e.g. 450681********1234"),
    N_("outside your jurisdiction"),
    N_("the file is empty"),
    N_("empty"),
    N_("no header row"),
    N_("use .xlsx or .csv"),
    N_("choose a file"),
    N_("please log in"),
    N_("missing or wrong CSRF token; reload the page and try again"),
    N_("the request is not valid"),
    N_("Not Found"),
    # people.service: "identity number <part>: <people.rules' reason>".
    N_("identity number length: must have 18 characters, has %(length)s"),
    N_("identity number format: must be 17 digits followed by a digit or X"),
    N_("identity number region_code: region code %(region)s is not a GB/T 2260 code"),
    N_("identity number birth_date: birth date %(date)s is not a date"),
    N_("identity number birth_date: birth date %(date)s is out of range"),
    N_("identity number checksum: check digit is %(digit)s, should be %(expected)s"),
)

# Field and column names as shown beside a problem.
FIELD_LABELS: Final[Mapping[str, str]] = {
    "name": N_("Name"),
    "id_number": N_("Identity number"),
    "phone": N_("Phone"),
    "address": N_("Address"),
    "grid_code": N_("Grid"),
    "household": N_("Household"),
    "sex": N_("Sex"),
    "file": N_("File"),
    "tube": N_("Tube"),
    "result": N_("Result"),
    "reported_at": N_("Report time"),
    "lab": N_("Lab"),
    "division_code": N_("Area"),
    "starts_at": N_("Start"),
    "ends_at": N_("End"),
    "site_id": N_("Site"),
    "scan": N_("Scan"),
    "case_id": N_("Case"),
    "person_id": N_("Person"),
    "kind": N_("Kind"),
    "grid": N_("Grid"),
    "draft": N_("Draft pack"),
    "pack": N_("Pack"),
    "prevalence": N_("Prevalence"),
    "max_pool": N_("Largest pool"),
    "people": N_("People"),
    "lab_per_day": N_("Lab tests per day"),
    "token": N_("Token"),
    "protocol": N_("Protocol"),
    "form": N_("Form"),
    "body": N_("Request"),
    "q": N_("Search"),
    "page": N_("Page"),
    "at": N_("Time"),
    "pool_controlled": N_("Pool size in controlled zones"),
    "pool_other": N_("Pool size elsewhere"),
    "sampled_at": N_("Sampling time"),
    "isolated_at": N_("Isolation time"),
    "onset_date": N_("Symptom onset"),
    "done_at": N_("Completion time"),
    "since": N_("Reported since"),
    "zones": N_("Zones"),
    "code": N_("Code"),
    "jurisdiction": N_("Jurisdiction"),
    "username": N_("Username"),
    "password": N_("Password"),
    "display_name": N_("Display name"),
    "role": N_("Role"),
    "population": N_("Population"),
    "days": N_("Days"),
    "scenario": N_("Scenario"),
    "out": N_("Output folder"),
    "folder": N_("Folder"),
}
# A problem named by its field, as one line of a message ("Sampling time: needs a time zone").
FIELD_PROBLEM: Final = N_("%(field)s: %(problem)s")


# The rules tracing stores beside each piece of evidence (trace.engine writes them; evidence
# stored before a pack said what together means has no ", same ..." part).
RULE_AT_LEAST: Final = re.compile(r"^(\w+): (\w+)(?:, same (\w+))? >= (\d+) min$")
RULE_SAME_CELL: Final = re.compile(
    r"^(\w+): same (\d+) m cell > (\d+) min(?:, neither phone > ([\d.]+) h there in (\d+) d)?$"
)
RULE_TEXTS = (
    N_("%(kind)s: %(setting)s ≥ %(minutes)s min"),
    N_("%(kind)s: same %(metres)s m cell for more than %(minutes)s min"),
    N_("%(kind)s: %(setting)s, %(together)s, ≥ %(minutes)s min"),
    N_(
        "%(kind)s: same %(metres)s m cell for more than %(minutes)s min, neither phone more "
        "than %(hours)s h there in %(days)s days"
    ),
)
# What together means in a setting (protocols.packs.Together).
TOGETHER_LABELS: Final = {
    "home": N_("same home"),
    "section": N_("same section"),
    "team": N_("co-workers in the same section"),
    "class": N_("same class"),
    "vessel": N_("same vessel"),
}


def rule_text(_: Gettext, rule: str, kinds: Mapping[str, str], settings: Mapping[str, str]) -> str:
    """A stored evidence rule ("close: household, same home >= 0 min") in words, with the kind
    and the setting named by the page's (translated) labels; a rule of another shape as it
    is."""
    found = RULE_AT_LEAST.match(rule)
    if found:
        kind, setting, together, minutes = found.groups()
        named = {
            "kind": kinds.get(kind, kind),
            "setting": settings.get(setting, setting),
            "minutes": minutes,
        }
        if together is None:
            return _(RULE_TEXTS[0]) % named
        label = TOGETHER_LABELS.get(together)
        named["together"] = _(label) if label else together
        return _(RULE_TEXTS[2]) % named
    found = RULE_SAME_CELL.match(rule)
    if found:
        kind, metres, minutes, hours, days = found.groups()
        named = {"kind": kinds.get(kind, kind), "metres": metres, "minutes": minutes}
        if hours is None:
            return _(RULE_TEXTS[1]) % named
        return _(RULE_TEXTS[3]) % (named | {"hours": hours, "days": days})
    return rule


ELSEWHERE_NOTE: Final = N_("(outside your jurisdiction: see the assist letter)")
# The contact export's sheets (cordon.trace.contacts): companions are a list of their own.
EXPORT_SHEETS: Final = (N_("Quarantine list"), N_("Companions"))


def export_words(
    _: Gettext, kinds: Mapping[str, str], settings: Mapping[str, str]
) -> Callable[[str, str], str]:
    """How a contact export words its coded values, in the language of ``_``."""

    def shown(column: str, value: str) -> str:
        if column == "kind":
            return _(kinds[value]) if value in kinds else value
        if column == "cell":
            return _("phone cell %(cell)s") % {"cell": value}
        if column == "rule":
            return rule_text(
                _,
                value,
                {k: _(v) for k, v in kinds.items()},
                {k: _(v) for k, v in settings.items()},
            )
        return _(value)

    return shown


def translated(_: Gettext, message: str, template: str = "", params: Any = None) -> str:
    """A message in the catalog's language: the template translated, then filled."""
    if template:
        values = {
            k: problem_text(_, v) if isinstance(v, Problem) else v
            for k, v in (params or {}).items()
        }
        try:
            return _(template) % values
        except (KeyError, TypeError, ValueError):
            return message
    return _(message)


def problem_text(_: Gettext, problem: Problem) -> str:
    return translated(_, problem.message, problem.template, problem.params)


def error_text(_: Gettext, exc: CordonError) -> str:
    return translated(_, exc.message, exc.template, exc.params)


def field_label(_: Gettext, name: str) -> str:
    """A field's name as shown; a dotted location (``rules.0.fact``) keeps its path."""
    head, dot, rest = name.partition(".")
    label = FIELD_LABELS.get(head)
    if label is None:
        return name
    return _(label) + (f" ({rest})" if dot else "")


def field_problems(_: Gettext, problems: list[Problem]) -> str:
    """Problems on one line, each after its field's label, in the language of ``_``."""
    return "; ".join(
        _(FIELD_PROBLEM) % {"field": field_label(_, p.field), "problem": problem_text(_, p)}
        for p in problems
    )
