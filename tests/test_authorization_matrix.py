"""The authorization matrix: every route of the app × every role × inside and outside the
user's jurisdiction, checked against the permission table below.

* Without a login: 401 from the API, a redirect to the login page from pages.
* A role without the route's permission: 403, wherever the record is.
* A role with it, on another town's record: 404 (its existence does not leak); a change to
  another town's record never succeeds.
* A role with it, inside its town: 200 for reads, and no answer ever carries the other town's
  people or records.
* Never a 500.

Routes are read from ``app.routes``, and a route missing from the table fails the first test,
so a new route is classified before it ships. Changes are requested only where they must be
refused (no login, no permission, another town), so the two towns stay as built.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from cordon.auth.rules import Role, permissions_of
from cordon.security.masking import mask_id_number
from tests import world as worlds
from tests.helpers import id_number, person, xlsx
from tests.page_helpers import login, page_token

PUBLIC, LOGIN = "public", "login"
# A grid worker reports an isolation done; so may screening staff.
CLOSE_TASKS = "screening:view and people:edit or screening:view and screening:operate"
HOME = "dongxing"  # every matrix user works in Dongxing town; Jiangping is another town
AWAY = "jiangping"

# METHOD path -> the permissions it needs (PUBLIC: none; LOGIN: any logged-in user;
# "a and b or c": both a and b, or c).
TABLE: dict[str, str] = {
    "GET /api/v1/openapi.json": PUBLIC,
    "GET /docs": PUBLIC,
    "GET /healthz": PUBLIC,
    # auth
    "POST /api/v1/auth/token": PUBLIC,
    "POST /api/v1/auth/logout": LOGIN,
    "GET /api/v1/me": LOGIN,
    "GET /api/v1/users": "users:manage",
    "POST /api/v1/users": "users:manage",
    "GET /login": PUBLIC,
    "POST /login": PUBLIC,
    "POST /logout": LOGIN,
    # people
    "GET /api/v1/people": "people:view",
    "POST /api/v1/people": "people:edit",
    "GET /api/v1/people/export.xlsx": "people:view",
    "GET /api/v1/people/{person_id}": "people:view",
    "PATCH /api/v1/people/{person_id}": "people:edit",
    "POST /api/v1/people/import": "people:import",
    "GET /people": "people:view",
    "GET /people/new": "people:edit",
    "POST /people/new": "people:edit",
    "GET /people/import": "people:import",
    "POST /people/import": "people:import",
    "GET /people/{person_id}": "people:view",
    "GET /people/{person_id}/edit": "people:edit",
    "POST /people/{person_id}/edit": "people:edit",
    # geo, overview, audit
    "GET /api/v1/geo/divisions/{code}": "geo:view",
    "GET /api/v1/geo/divisions/{code}/children": "geo:view",
    "GET /api/v1/geo/grids": "geo:view",
    "GET /api/v1/geo/grids/{code}": "geo:view",
    "GET /api/v1/geo/boundaries/fangchenggang": "geo:view",
    "GET /": "overview:view",
    "GET /overview/boundaries.json": "overview:view",
    "GET /api/v1/audit": "audit:view",
    "GET /audit": "audit:view",
    # cases
    "GET /api/v1/cases": "cases:view",
    "POST /api/v1/cases": "cases:edit",
    "GET /api/v1/cases/{case_id}": "cases:view",
    "POST /api/v1/cases/{case_id}/investigation": "cases:edit",
    "POST /api/v1/cases/{case_id}/transfers": "cases:edit",
    "GET /api/v1/cases/{case_id}/transfers": "cases:view",
    "PUT /api/v1/cases/{case_id}/plan": "cases:edit",
    "GET /api/v1/cases/{case_id}/plan": "cases:view",
    "GET /cases": "cases:view",
    "GET /cases/{case_id}": "cases:view",
    "POST /cases/{case_id}/investigation": "cases:edit",
    "POST /cases/{case_id}/transfers": "cases:edit",
    "POST /cases/{case_id}/plan": "cases:edit",
    # trace
    "GET /api/v1/trace/cases/{case_id}": "trace:run",
    "POST /api/v1/trace/cases/{case_id}": "trace:run",
    "GET /api/v1/trace/cases/{case_id}/trajectory": "cases:view",
    "POST /api/v1/trace/batch": "trace:run",
    "GET /api/v1/trace/jobs/{job_id}": LOGIN,  # the same as GET /api/v1/jobs/{job_id}
    "GET /api/v1/trace/contacts": "cases:view",
    "GET /api/v1/trace/contacts.xlsx": "cases:view",
    "GET /api/v1/trace/network": "cases:view",
    "GET /api/v1/trace/cases/{case_id}/letters.zip": "trace:run",
    "GET /trace/cases/{case_id}/panel": "cases:view",
    "POST /trace/cases/{case_id}/run": "trace:run",
    "GET /trace/contacts": "cases:view",
    "GET /trace/network": "cases:view",
    # a list's cost before it is pushed (counts only), and the push: the command's decision
    "POST /api/v1/trace/preview": "cases:view",
    "POST /api/v1/trace/push": "trace:push",
    "GET /api/v1/trace/pushes": "cases:view",
    "POST /trace/cases/{case_id}/preview": "cases:view",
    "POST /trace/cases/{case_id}/push": "trace:push",
    # codes
    "POST /api/v1/codes/lookup": PUBLIC,
    "POST /api/v1/codes/verify": PUBLIC,
    "GET /api/v1/codes/public-key": PUBLIC,
    "POST /api/v1/codes/recompute": "codes:manage",
    "GET /api/v1/codes/people/{person_id}": "codes:view",
    "GET /api/v1/codes/counts": "codes:view",
    "GET /api/v1/codes/catalogue": "codes:view",
    "POST /api/v1/codes/whatif": "codes:manage",
    "GET /codes": "codes:view",
    "POST /codes/recompute": "codes:manage",
    "GET /codes/people/{person_id}": "codes:view",
    "GET /codes/whatif": "codes:manage",
    "POST /codes/whatif": "codes:manage",
    "GET /codes/lookup": PUBLIC,
    "POST /codes/lookup": PUBLIC,
    "GET /codes/check": PUBLIC,
    "POST /codes/check": PUBLIC,
    # screening
    "GET /api/v1/screening/rounds": "screening:view",
    "POST /api/v1/screening/rounds": "screening:manage",
    "GET /api/v1/screening/rounds/{round_id}": "screening:view",
    "POST /api/v1/screening/rounds/{round_id}/sites": "screening:manage",
    "GET /api/v1/screening/rounds/{round_id}/sites": "screening:view",
    "POST /api/v1/screening/rounds/{round_id}/plan": "screening:manage",
    "GET /api/v1/screening/rounds/{round_id}/plan": "screening:view",
    "POST /api/v1/screening/rounds/{round_id}/samples": "screening:operate",
    "POST /api/v1/screening/rounds/{round_id}/tubes/close": "screening:operate",
    "POST /api/v1/screening/rounds/{round_id}/receipts": "screening:operate",
    "POST /api/v1/screening/rounds/{round_id}/results": "screening:operate",
    "GET /api/v1/screening/rounds/{round_id}/coverage": "screening:view",
    "GET /api/v1/screening/rounds/{round_id}/progress": "screening:view",
    "GET /api/v1/screening/rounds/{round_id}/missing": "screening:view and people:view",
    "GET /api/v1/screening/rounds/{round_id}/missing.xlsx": "screening:view and people:view",
    "GET /api/v1/screening/tasks": "screening:view",
    "POST /api/v1/screening/tasks/{task_id}/done": CLOSE_TASKS,
    "GET /api/v1/screening/proposals": "screening:view",
    "POST /api/v1/screening/proposals/{proposal_id}/accept": "cases:edit",
    "POST /api/v1/screening/proposals/{proposal_id}/dismiss": "cases:edit",
    "POST /api/v1/screening/planner": "screening:view",
    "POST /api/v1/screening/lookup": PUBLIC,
    "GET /screening": "screening:view",
    "POST /screening": "screening:manage",
    "GET /screening/rounds/{round_id}": "screening:view",
    "GET /screening/rounds/{round_id}/desk": "screening:operate",
    "POST /screening/rounds/{round_id}/desk": "screening:operate",
    "GET /screening/rounds/{round_id}/results": "screening:operate",
    "POST /screening/rounds/{round_id}/results": "screening:operate",
    "GET /screening/tasks": "screening:view",
    "POST /screening/tasks/{task_id}/done": CLOSE_TASKS,
    "POST /screening/proposals/{proposal_id}/{decision}": "cases:edit",
    "GET /screening/planner": "screening:view",
    "GET /screening/rounds/{round_id}/missing.xlsx": "screening:view and people:view",
    "POST /api/v1/screening/simulations": "screening:manage",
    # cases, trace: forms and jobs
    "GET /cases/new": "cases:edit",
    "POST /cases/new": "cases:edit",
    "POST /api/v1/trace/cases/{case_id}/job": "trace:run",
    "POST /api/v1/trace/cases/{case_id}/letters": "trace:run",
    "POST /trace/cases/{case_id}/letters": "trace:run",
    "POST /trace/contacts/export": "cases:view",
    # users
    "GET /api/v1/users/{user_id}": "users:manage",
    "PATCH /api/v1/users/{user_id}": "users:manage",
    "POST /api/v1/users/{user_id}/password": "users:manage",
    "GET /users": "users:manage",
    "POST /users": "users:manage",
    "GET /users/{user_id}": "users:manage",
    "POST /users/{user_id}": "users:manage",
    "POST /users/{user_id}/active": "users:manage",
    "POST /users/{user_id}/password": "users:manage",
    # the scenario clock: anyone may read it, operators set it
    "GET /api/v1/clock": LOGIN,
    "PUT /api/v1/clock": "clock:set",
    "GET /clock": "clock:set",
    "POST /clock": "clock:set",
    "POST /clock/advance": "clock:set",
    # background jobs: seen by their jurisdiction (and downloads by their owner)
    "GET /api/v1/jobs": LOGIN,
    "GET /api/v1/jobs/{job_id}": LOGIN,
    "GET /api/v1/jobs/{job_id}/result": LOGIN,
    "POST /api/v1/jobs/{job_id}/cancel": LOGIN,
    "GET /jobs": "overview:view",
    "GET /jobs/{job_id}": "overview:view",
    "GET /jobs/{job_id}/progress": "overview:view",
    "GET /jobs/{job_id}/download": "overview:view",
    "POST /jobs/{job_id}/cancel": "overview:view",
}
# Path parameters that name no record of a town: the same value inside and outside.
UNSCOPED_PARAMS = {"decision"}
# Administrative divisions are reference data every role may read, wherever they lie.
UNSCOPED_ROUTES = {"GET /api/v1/geo/divisions/{code}", "GET /api/v1/geo/divisions/{code}/children"}
# The audit log is the administrators' record of every access, across jurisdictions.
SYSTEM_WIDE = {"GET /api/v1/audit", "GET /audit", "GET /api/v1/users"}


def app_routes(app: Any) -> list[str]:
    found = []
    for route in iter_route_contexts(app.routes):
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append(f"{method} {route.path}")
    return sorted(found)


@dataclass
class Matrix:
    world: worlds.World
    tokens: dict[Role, dict[str, str]]
    pages: dict[Role, TestClient]
    anonymous: TestClient
    foreign: list[str]  # text that only another town's records would put in an answer


def _names(world: worlds.World) -> list[str]:
    return [f"{AWAY}居民", f"{AWAY}筛查", f"{AWAY}第一轮", f"{AWAY}采样点"]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    world = worlds.build(tmp_path_factory.mktemp("matrix"))
    home = world.towns[HOME].code
    tokens, pages = {}, {}
    for role in Role:
        username = f"m_{role.value}"
        tokens[role] = world.user(username, role, home)
        client = TestClient(world.app)
        client.__enter__()
        assert login(client, username).status_code == 303
        pages[role] = client
    anonymous = TestClient(world.app)
    anonymous.__enter__()
    away = world.towns[AWAY]
    numbers = [id_number(order=order) for order in (511, 513)]
    foreign = [*_names(world), away.tube, f'"case:{away.case_id}"']
    foreign += numbers + [mask_id_number(n) for n in numbers]
    del away
    yield Matrix(world, tokens, pages, anonymous, foreign)
    for client in [*pages.values(), anonymous]:
        client.__exit__(None, None, None)
    worlds.close(world)


def test_every_route_is_in_the_permission_table(matrix: Matrix) -> None:
    routes = set(app_routes(matrix.world.app))
    assert sorted(routes - set(TABLE)) == [], "classify the new routes in TABLE"
    assert sorted(set(TABLE) - routes) == [], "routes in TABLE that the app no longer has"


# --- Requests --------------------------------------------------------------------------


def _fill(path: str, town: worlds.Town) -> str:
    values = {
        "person_id": town.person_id,
        "case_id": town.case_id,
        "round_id": town.round_id,
        "task_id": town.task_id,
        "proposal_id": town.proposal_id,
        "job_id": 999_999,
        "user_id": town.user_id,
        "decision": "dismiss",
        "code": town.village,
    }
    if path.startswith("/api/v1/geo/grids/"):
        values["code"] = town.grid
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
    return path


HEADER = ["姓名", "身份证号", "网格编码"]
Body = Callable[[worlds.Town], dict[str, Any]]
_SAMPLED = "2021-12-21T10:00:00+08:00"
_counter = iter(range(700, 100_000, 2))


def _person_body(town: worlds.Town) -> dict[str, Any]:
    return {"json": person(id_number=id_number(order=next(_counter) % 1000), grid_code=town.grid)}


def _upload(name: str, data: bytes) -> dict[str, Any]:
    return {"files": {"file": (name, data, "application/octet-stream")}}


# What a mutating API route is sent: a valid request, so that only permission or
# jurisdiction can refuse it. Records named in bodies are the town's too.
API_BODIES: dict[str, Body] = {
    "POST /api/v1/users": lambda t: {
        "json": {
            "username": f"u{next(_counter)}",
            "password": "correct horse battery",
            "role": "analyst",
            "jurisdiction": t.code,
        }
    },
    "POST /api/v1/people": _person_body,
    "PATCH /api/v1/people/{person_id}": lambda t: {"json": {"address": "新址1号"}},
    "POST /api/v1/people/import": lambda t: _upload(
        "p.xlsx", xlsx([HEADER, ["王五", id_number(order=901), t.grid]])
    ),
    "POST /api/v1/cases": lambda t: {
        "json": {
            "person_id": t.person_id + 1,
            "kind": "asymptomatic",
            "found_by": "screening",
            "sampled_at": _SAMPLED,
        }
    },
    "POST /api/v1/cases/{case_id}/investigation": lambda t: {"json": {"stage": "core"}},
    "POST /api/v1/cases/{case_id}/transfers": lambda t: {
        "json": {"to_facility": "定点医院", "at": _SAMPLED}
    },
    "PUT /api/v1/cases/{case_id}/plan": lambda t: {"json": {"plan": "居家隔离"}},
    "POST /api/v1/trace/batch": lambda t: {"json": {"since": "2021-12-01T00:00:00+08:00"}},
    "POST /api/v1/codes/whatif": lambda t: {
        "content": b"name: draft\n",
        "headers": {"content-type": "text/plain"},
    },
    "POST /api/v1/screening/rounds": lambda t: {
        "json": {
            "name": "新一轮",
            "division_code": t.village,
            "starts_at": "2021-12-23T08:00:00+08:00",
            "ends_at": "2021-12-24T08:00:00+08:00",
        }
    },
    "POST /api/v1/screening/rounds/{round_id}/sites": lambda t: {
        "json": {"name": "新采样点", "division_code": t.village, "grids": []}
    },
    "POST /api/v1/screening/rounds/{round_id}/samples": lambda t: {
        "json": {"site_id": t.site_id, "tube": "N0001", "person_id": t.person_id}
    },
    "POST /api/v1/screening/rounds/{round_id}/tubes/close": lambda t: {"params": {"tube": t.tube}},
    "POST /api/v1/screening/rounds/{round_id}/receipts": lambda t: {
        "json": {"lab": "东兴市人民医院", "tubes": [t.tube]}
    },
    "POST /api/v1/screening/rounds/{round_id}/results": lambda t: _upload(
        "r.csv", f"管码,检测结果\n{t.tube},阴性\n".encode()
    ),
    "POST /api/v1/screening/planner": lambda t: {"json": {"prevalence": 0.01}},
    "POST /api/v1/screening/simulations": lambda t: {"params": {"day": 21}},
    "GET /api/v1/trace/network": lambda t: {"params": {"case_id": t.case_id}},
    "POST /api/v1/trace/preview": lambda t: {"json": {"case_ids": [t.case_id], "tiers": [1]}},
    "POST /api/v1/trace/push": lambda t: {"json": {"case_ids": [t.case_id], "tiers": [1]}},
    "GET /api/v1/trace/pushes": lambda t: {"params": {"case_id": t.case_id}},
    "POST /api/v1/auth/token": lambda t: {
        "json": {"username": "m_analyst", "password": "correct horse battery"}
    },
    "POST /api/v1/codes/lookup": lambda t: {"json": {"id_number": id_number(), "name": "某"}},
    "POST /api/v1/codes/verify": lambda t: {"json": {"token": "x" * 40}},
    "POST /api/v1/screening/lookup": lambda t: {
        "json": {"id_number": id_number(order=511), "name": f"{AWAY}筛查"}
    },
}
# Form fields of mutating pages (the CSRF token is added).
PAGE_FORMS: dict[str, Body] = {
    "POST /people/new": lambda t: {"data": {**person(grid_code=t.grid), "phone": ""}},
    "POST /people/{person_id}/edit": lambda t: {"data": {"address": "新址2号"}},
    "POST /people/import": lambda t: {
        **_upload(
            "p.xlsx",
            xlsx([["姓名", "身份证号", "网格编码"], ["赵六", id_number(order=903), t.grid]]),
        ),
        "data": {},
    },
    "POST /cases/{case_id}/investigation": lambda t: {"data": {"stage": "core"}},
    "POST /cases/{case_id}/transfers": lambda t: {
        "data": {"to_facility": "定点医院", "at": "2021-12-21T10:00"}
    },
    "POST /cases/{case_id}/plan": lambda t: {"data": {"plan": "居家隔离"}},
    "POST /trace/cases/{case_id}/preview": lambda t: {"data": {"tiers": "1"}},
    "POST /trace/cases/{case_id}/push": lambda t: {"data": {"tiers": "1"}},
    "POST /screening": lambda t: {
        "data": {
            "name": "新一轮",
            "division_code": t.village,
            "starts_at": "2021-12-23T08:00",
            "ends_at": "2021-12-24T08:00",
        }
    },
    "POST /screening/rounds/{round_id}/desk": lambda t: {
        "data": {"site_id": str(t.site_id), "id_number": id_number(order=503), "tube": "N0002"}
    },
    "POST /screening/rounds/{round_id}/results": lambda t: {
        **_upload("r.csv", f"管码,检测结果\n{t.tube},阴性\n".encode()),
        "data": {},
    },
    "POST /login": lambda t: {"data": {"username": "nobody", "password": "x"}},
    "POST /codes/lookup": lambda t: {"data": {"id_number": id_number(), "name": "某"}},
    "POST /codes/check": lambda t: {"data": {"token": "x" * 40}},
}


def _request(
    client: TestClient, route: str, town: worlds.Town, headers: dict[str, str] | None = None
) -> Any:
    method, path = route.split(" ", 1)
    url = _fill(path, town)
    api = path.startswith("/api/")
    extra = (API_BODIES if api else PAGE_FORMS).get(route, lambda t: {})(town)
    if not api and method != "GET":
        data = dict(extra.pop("data", {}))
        with contextlib.suppress(LookupError):  # not logged in: the login redirect comes first
            data["csrf_token"] = page_token(client)
        extra["data"] = data
    sent_headers = {**(headers or {}), **extra.pop("headers", {})}
    return client.request(method, url, headers=sent_headers, follow_redirects=False, **extra)


# --- The checks --------------------------------------------------------------------------

# Mutating routes whose body names a place or record of the town (so "another town" applies).
BODY_SCOPED = {
    "POST /api/v1/users",
    "POST /api/v1/people",
    "POST /api/v1/people/import",
    "POST /api/v1/cases",
    "POST /api/v1/screening/rounds",
    "POST /people/new",
    "POST /people/import",
    "POST /screening",
}
# Reads whose query names records of the town: another town's are left out (200, nothing).
QUERY_SCOPED = {"GET /api/v1/trace/network"}
# Routes whose body or query names one record of the town: another town's is unknown (404).
RECORD_NAMED = {
    "POST /api/v1/trace/preview",
    "POST /api/v1/trace/push",
    "GET /api/v1/trace/pushes",
}
# What a read inside the user's town answers when 200 is not the whole story.
NO_LAKE = {422}  # the matrix's world has no movement lake: tracing says so
NO_JOB = {404}  # no job of that id in either town
READ_IN: dict[str, set[int]] = {
    "GET /api/v1/trace/jobs/{job_id}": NO_JOB,
    "GET /api/v1/jobs/{job_id}": NO_JOB,
    "GET /api/v1/jobs/{job_id}/result": NO_JOB,
    "GET /jobs/{job_id}": NO_JOB,
    "GET /jobs/{job_id}/progress": NO_JOB,
    "GET /jobs/{job_id}/download": NO_JOB,
    "GET /api/v1/trace/cases/{case_id}": NO_LAKE,
    "GET /api/v1/trace/cases/{case_id}/trajectory": NO_LAKE,
    "GET /api/v1/trace/cases/{case_id}/letters.zip": NO_LAKE,
}
REFUSED_OUT = {404, 422}  # a change to another town's record: unknown, or the body refused
# Creating something for another town (a user, a person, a round) may also be forbidden.
CREATED_OUT = {403, 404, 422}


def _scoped(route: str) -> bool:
    _method, path = route.split(" ", 1)
    params = {p.split("}")[0] for p in path.split("{")[1:]}
    if route in UNSCOPED_ROUTES:
        return False
    named = BODY_SCOPED | QUERY_SCOPED | RECORD_NAMED
    return bool(params - UNSCOPED_PARAMS) or route in named


def may(role: Role, rule: str) -> bool:
    """Whether the role's permissions satisfy a TABLE rule."""
    if rule == LOGIN:
        return True
    held = permissions_of(role.value)
    return any(
        all(p.strip() in held for p in option.split(" and ")) for option in rule.split(" or ")
    )


def _leaks(answer: Any, foreign: list[str]) -> list[str]:
    body = answer.content
    return [marker for marker in foreign if marker.encode() in body]


def check(route: str, matrix: Matrix) -> list[str]:
    """Everything wrong with one route's answers across roles and towns."""
    permission = TABLE[route]
    method, path = route.split(" ", 1)
    api, mutating = path.startswith("/api/"), method != "GET"
    home, away = matrix.world.towns[HOME], matrix.world.towns[AWAY]
    wrong: list[str] = []

    def judge(who: str, answer: Any, expected: set[int]) -> None:
        status = answer.status_code
        if status not in expected:
            wrong.append(f"{who}: {status} (expected {sorted(expected)}) {answer.text[:160]}")
        if route not in SYSTEM_WIDE and (leaked := _leaks(answer, matrix.foreign)):
            wrong.append(f"{who}: another town's data in the answer: {leaked}")

    answer = _request(matrix.anonymous, route, home)
    if permission == PUBLIC:
        if answer.status_code >= 500:
            wrong.append(f"anonymous: {answer.status_code}")
        return wrong
    judge("anonymous", answer, {401} if api else {303})
    if not api and answer.status_code == 303:
        location = answer.headers.get("location", "")
        if not location.startswith("/login"):
            wrong.append(f"anonymous: redirected to {location}, not the login page")
    for role in Role:
        allowed = may(role, permission)
        places = [("in", home), ("out", away)] if _scoped(route) else [("in", home)]
        for where, town in places:
            if allowed and where == "in" and mutating:
                continue  # the happy paths are the slices' own tests; keep the towns as built
            if api:
                answer = _request(matrix.world.client, route, town, matrix.tokens[role])
            else:
                answer = _request(matrix.pages[role], route, town)
            if not allowed:
                expected = {403}
            elif where == "out":
                expected = {200} if route in QUERY_SCOPED else {404}
                if mutating:
                    expected = CREATED_OUT if route in BODY_SCOPED else REFUSED_OUT
            else:
                expected = READ_IN.get(route, {200})
            judge(f"{role.value} {where}", answer, expected)
    return wrong


@pytest.mark.parametrize("route", sorted(TABLE))
def test_route_answers_match_the_permission_table(route: str, matrix: Matrix) -> None:
    assert check(route, matrix) == []


# A role without the permission is refused before its request is read: an invalid body or
# query gets the same 403 as a valid one (not a 422 that tells what the route expects).
GUARDED_CHANGES = sorted(
    route
    for route, rule in TABLE.items()
    if route.split(" ", 1)[0] in {"POST", "PUT", "PATCH"}
    and route.split(" ", 1)[1].startswith("/api/")
    and rule not in (PUBLIC, LOGIN)
)


@pytest.mark.parametrize("route", GUARDED_CHANGES)
def test_a_role_without_the_permission_gets_403_whatever_it_sends(
    route: str, matrix: Matrix
) -> None:
    method, path = route.split(" ", 1)
    url = _fill(path, matrix.world.towns[HOME])
    wrong = []
    for role in Role:
        if may(role, TABLE[route]):
            continue
        answer = matrix.world.client.request(
            method, url, json={"unexpected": ["x"] * 3}, headers=matrix.tokens[role]
        )
        if answer.status_code != 403:
            wrong.append(f"{role.value}: {answer.status_code} {answer.text[:120]}")
    assert wrong == []
