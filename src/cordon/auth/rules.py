"""Roles and what each may do. Pure data: later slices add their permissions here.

A permission is ``slice:verb``. ``people:view_pii`` lets a role see identity numbers and phones
unmasked; everyone else sees them masked.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    COMMANDER = "commander"
    EPIDEMIOLOGIST = "epidemiologist"
    SCREENING_OPERATOR = "screening_operator"
    GRID_WORKER = "grid_worker"
    BORDER_OFFICER = "border_officer"
    ANALYST = "analyst"


ROLE_LABELS = {
    Role.ADMIN: "管理员",
    Role.COMMANDER: "指挥长",
    Role.EPIDEMIOLOGIST: "流调人员",
    Role.SCREENING_OPERATOR: "核酸筛查操作员",
    Role.GRID_WORKER: "网格员",
    Role.BORDER_OFFICER: "边境管控人员",
    Role.ANALYST: "数据分析员",
}

_READ = {"overview:view", "geo:view"}
_PEOPLE_READ = {"people:view"}
_PEOPLE_WRITE = {"people:view", "people:edit", "people:import"}
_CASES_READ = {"cases:view"}
_CASES_WRITE = {"cases:view", "cases:edit", "trace:run"}
# Pushing a trace's tiers to codes and orders commits rooms, staff and people's freedom of
# movement: the command centre's decision (the commander's, and the administrator's, who holds
# every permission), taken on the epidemiologists' list and its cost preview, which every role
# that sees cases may read. Epidemiologists trace and advise; they do not push their own lists.
_PUSH = {"trace:push"}
_CODES_READ = {"codes:view"}
_CODES_WRITE = {"codes:view", "codes:manage"}
_SCREENING_READ = {"screening:view"}
_SCREENING_OPERATE = {"screening:view", "screening:operate"}
_SCREENING_WRITE = {"screening:view", "screening:operate", "screening:manage"}

PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset(
        _READ
        | _PEOPLE_WRITE
        | _CASES_WRITE
        | _CODES_WRITE
        | _SCREENING_WRITE
        | _PUSH
        | {"people:view_pii", "audit:view", "users:manage", "geo:edit", "clock:set"}
    ),
    Role.COMMANDER: frozenset(
        _READ
        | _PEOPLE_READ
        | _CASES_READ
        | _CODES_WRITE
        | _SCREENING_WRITE
        | _PUSH
        | {"people:view_pii", "clock:set"}
    ),
    Role.EPIDEMIOLOGIST: frozenset(
        _READ | _PEOPLE_WRITE | _CASES_WRITE | _CODES_WRITE | _SCREENING_READ | {"people:view_pii"}
    ),
    Role.SCREENING_OPERATOR: frozenset(_READ | _PEOPLE_READ | _CODES_READ | _SCREENING_OPERATE),
    Role.GRID_WORKER: frozenset(_READ | _PEOPLE_WRITE | _CODES_READ | _SCREENING_READ),
    Role.BORDER_OFFICER: frozenset(_READ | _PEOPLE_READ | _CODES_READ),
    Role.ANALYST: frozenset(_READ | _CODES_READ | _SCREENING_READ),
}


def permissions_of(role: str) -> frozenset[str]:
    return PERMISSIONS[Role(role)]


def all_permissions() -> frozenset[str]:
    return frozenset().union(*PERMISSIONS.values())
