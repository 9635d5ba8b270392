"""Tracing pages: the case page's tracing panel (trajectory on a map, timeline, contacts),
the contact list with filters and export, and the transmission network."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cordon.auth.schemas import Actor
from cordon.cases import service as cases_service
from cordon.errors import Problem, ValidationFailed
from cordon.geo import service as geo_service
from cordon.jobs import service as jobs_service
from cordon.jobs.flows import dispatch
from cordon.people import service as people_service
from cordon.protocols import packs
from cordon.trace import contacts, jobs, push, service
from cordon.trace.contacts import ContactFilter
from cordon.trace.schemas import NetworkOut, PushOut, TrajectoryOut
from cordon.web import i18n
from cordon.web.deps import Cipher, DbSession, RecordId, SettingsDep
from cordon.web.downloads import written_file
from cordon.web.forms import Pager
from cordon.web.i18n import N_
from cordon.web.messages import error_text, export_words, problem_text
from cordon.web.nav import NavEntry
from cordon.web.page_deps import page_require
from cordon.web.templating import render, translated_problems, translator

router = APIRouter(prefix="/trace", include_in_schema=False)
NAV = [
    NavEntry("/trace/contacts", N_("Contacts"), "cases:view", order=32),
    NavEntry("/trace/network", N_("Network"), "cases:view", order=34),
]
Viewer = Annotated[Actor, Depends(page_require("cases:view"))]
Tracer = Annotated[Actor, Depends(page_require("trace:run"))]
KIND_LABELS = {
    "close": N_("Close contact"),
    "secondary": N_("Secondary contact"),
    "companion": N_("Spatio-temporal companion"),
}
SETTING_LABELS = {
    "household": N_("Household"),
    "work": N_("Work"),
    "class": N_("Class"),
    "venue": N_("Venue"),
    "health": N_("Health facility"),
    "transit": N_("Transport"),
    "vessel": N_("Boat"),
    "outside": N_("Outdoors"),
    "cell": N_("Phone cell"),
}
# What each tier is pushed to (a pack's tier action), as badges and the network's legend say.
ACTION_LABELS = {
    "central": N_("central quarantine"),
    "home": N_("home quarantine"),
    "notify": N_("notify and test"),
}
PAGE_SIZE = 50
BOUNDARIES_URL = "/overview/boundaries.json"


def _labels(request: Request) -> dict[str, Any]:
    _ = translator(request)
    return {
        "kinds": {k: _(v) for k, v in KIND_LABELS.items()},
        "settings": {k: _(v) for k, v in SETTING_LABELS.items()},
    }


@router.get("/cases/{case_id}/panel", response_class=HTMLResponse)
def panel(
    case_id: RecordId,
    request: Request,
    actor: Viewer,
    session: DbSession,
    settings: SettingsDep,
) -> HTMLResponse:
    """The tracing part of the case page (an HTMX fragment, or a page when opened directly)."""
    _ = translator(request)
    # The cost preview first: its dry run reads, and SQLite's one writer is taken only by the
    # audit entries that follow, so the request holds it briefly.
    traced = contacts.count(session=session, actor=actor, where=ContactFilter(case_id=case_id))
    costing = _costing(request, actor, session, settings, case_id, None, False) if traced else {}
    path: TrajectoryOut | None = None
    problem = ""
    try:
        path = service.trajectory(
            session=session, actor=actor, case_id=case_id, lake=settings.lake_dir
        )
    except ValidationFailed as exc:
        problem = "; ".join(problem_text(_, p) for p in exc.problems) or error_text(_, exc)
    stored = contacts.list_contacts(
        session=session, actor=actor, where=ContactFilter(case_id=case_id), limit=20
    )
    if stored.total and not costing:
        # The trace job committed its list between the two reads (SQLite reads outside a
        # transaction see each commit): the panel must not show a list without its cost.
        costing = _costing(request, actor, session, settings, case_id, None, False)
    subject = f"case:{case_id}"
    trace_job = jobs_service.latest(session=session, actor=actor, kind=jobs.CASE, subject=subject)
    letters_job = jobs_service.latest(
        session=session, actor=actor, kind=jobs.LETTERS, subject=subject
    )
    names = people_service.names_of(
        session=session,
        actor=actor,
        person_ids=[c.person_id for c in stored.rows],
        detail={"case_id": case_id, "page": "trace panel"},
    )
    chart = {
        "boundaries_url": BOUNDARIES_URL,
        "stops": [s.model_dump(mode="json") for s in path.stops] if path else [],
        "labels": {"failed": _("The map could not be loaded."), "stay": _("Stay")},
    }
    context = {
        **costing,
        "case_id": case_id,
        "path": path,
        "problem": problem,
        "stored": stored,
        "trace_job": trace_job,
        "letters_job": letters_job,
        "job_labels": jobs_service.LABELS,
        "names": names,
        "packs": packs.available(),
        "default_pack": packs.DEFAULT_PACK,
        "chart": chart,
        "labels": _labels(request),
        "fragment": request.headers.get("hx-request") == "true",
    }
    return render(request, "trace/panel.html", context)


@router.post("/cases/{case_id}/run")
def run(
    case_id: RecordId,
    request: Request,
    actor: Tracer,
    session: DbSession,
    settings: SettingsDep,
    pack: Annotated[str, Form(max_length=40)] = packs.DEFAULT_PACK,
) -> Response:
    """Start tracing the case as a job and show the case page at once, with its progress."""
    job = jobs.start_case(
        session=session, actor=actor, case_id=case_id, pack_name=pack, lake=settings.lake_dir
    )
    dispatch(request.app, session, job)
    return RedirectResponse(f"/cases/{case_id}?job={job.id}#tracing", status_code=303)


ACTION_LABELS = {
    "central": N_("Central quarantine"),
    "home": N_("Home quarantine"),
    "notify": N_("Notify and test (yellow code)"),
    "companion": N_("Yellow code and two tests"),
}
Pusher = Annotated[Actor, Depends(page_require("trace:push"))]
Tiers = Annotated[list[int], Form(max_length=9)]


def _costing(
    request: Request,
    actor: Actor,
    session: DbSession,
    settings: SettingsDep,
    case_id: int,
    tiers: list[int] | None,
    companions: bool,
    problems: list[Problem] | None = None,
    done: PushOut | None = None,
) -> dict[str, Any]:
    """The push part of the panel: the cost preview of the chosen tiers (by default those not
    pushed yet whose action is central quarantine), the tiers pushed, and the past pushes."""
    history = push.pushes(session=session, actor=actor, case_id=case_id)
    pushed = {t for p in history for t in p.tiers}
    pushed_companions = any(p.companions for p in history)
    every = push.preview(
        session=session, actor=actor, case_ids=[case_id], tiers=[], code_pack=settings.code_pack
    )
    if tiers is None:
        tiers = [t.tier for t in every.tiers if t.action == "central" and t.tier is not None]
    cost = push.choose(
        every,
        [t for t in tiers if t not in pushed],
        companions and not pushed_companions,
    )
    _ = translator(request)
    shown = [*history, *([done] if done else [])]
    return {
        "push_words": {p.id: _push_words(_, p) for p in shown},
        "cost": cost,
        "pushed_tiers": pushed,
        "pushed_companions": pushed_companions,
        "pushes": history,
        "done": done,
        "push_problems": [problem_text(_, p) for p in problems or []],
        "action_labels": {k: _(v) for k, v in ACTION_LABELS.items()},
    }


def _push_words(_: Callable[[str], str], pushed: PushOut) -> str:
    words = [_("Tier %(tier)s") % {"tier": t} for t in pushed.tiers]
    if pushed.companions:
        words.append(_(KIND_LABELS["companion"]))
    return " · ".join(words)


def _push_section(
    request: Request, case_id: int, costing: dict[str, Any], status: int = 200
) -> HTMLResponse:
    context = {**costing, "case_id": case_id, "labels": _labels(request)}
    return render(request, "trace/push_section.html", context, status=status)


@router.post("/cases/{case_id}/preview", response_class=HTMLResponse)
def preview_push(
    case_id: RecordId,
    request: Request,
    actor: Viewer,
    session: DbSession,
    settings: SettingsDep,
    tiers: Tiers = [],  # noqa: B006  (FastAPI copies defaults)
    companions: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    """The cost preview again for the tiers ticked (the panel's form, on every change)."""
    costing = _costing(request, actor, session, settings, case_id, tiers, companions)
    return _push_section(request, case_id, costing)


@router.post("/cases/{case_id}/push")
def push_tiers(
    case_id: RecordId,
    request: Request,
    actor: Pusher,
    session: DbSession,
    settings: SettingsDep,
    tiers: Tiers = [],  # noqa: B006
    companions: Annotated[bool, Form()] = False,
) -> Response:
    """Push the ticked tiers; the panel shows who pushed what and when (or, without HTMX, the
    case page again)."""
    try:
        done = push.push(
            session=session,
            actor=actor,
            case_ids=[case_id],
            tiers=tiers,
            companions=companions,
            code_pack=settings.code_pack,
        )
    except ValidationFailed as exc:
        if request.headers.get("hx-request") != "true":
            raise
        costing = _costing(
            request, actor, session, settings, case_id, tiers, companions, exc.problems
        )
        return _push_section(request, case_id, costing, status=200)
    if request.headers.get("hx-request") != "true":
        return RedirectResponse(f"/cases/{case_id}#tracing", status_code=303)
    costing = _costing(request, actor, session, settings, case_id, None, False, done=done)
    return _push_section(request, case_id, costing)


@router.post("/cases/{case_id}/letters")
def letters(
    case_id: RecordId,
    request: Request,
    actor: Tracer,
    session: DbSession,
    settings: SettingsDep,
    pack: Annotated[str, Form(max_length=40)] = packs.DEFAULT_PACK,
) -> Response:
    """Produce the assist letters as a job; the case page offers the ZIP when done."""
    job = jobs.start_letters(
        session=session, actor=actor, case_id=case_id, pack_name=pack, lake=settings.lake_dir
    )
    dispatch(request.app, session, job)
    return RedirectResponse(f"/cases/{case_id}?job={job.id}#tracing", status_code=303)


@router.post("/contacts/export")
def export(
    request: Request,
    actor: Viewer,
    session: DbSession,
    cipher: Cipher,
    settings: SettingsDep,
    kind: Annotated[str, Form(max_length=12)] = "",
    division: Annotated[str, Form(max_length=12)] = "",
    grid: Annotated[str, Form(max_length=15)] = "",
    case_id: Annotated[str, Form(max_length=10)] = "",
    tier: Annotated[str, Form(max_length=2)] = "",
) -> Response:
    """The contacts a filter finds as XLSX (the list on screen: the quarantine list unless
    another is chosen; all of them as a sheet per list): at once when few, else as a job
    whose page offers the file. A bad filter gets an error page, never a file holding an
    error."""
    query = {"kind": kind, "division": division, "grid": grid, "case_id": case_id, "tier": tier}
    problems = _filter_problems(request, query)
    if problems:
        raise ValidationFailed(
            "the filter is not valid",
            problems=[Problem(name, text) for name, text in problems],
        )
    where = _where(query)
    language = i18n.language_of(request)
    total = contacts.count(session=session, actor=actor, where=where)
    if total > settings.export_direct_rows:
        job = jobs.start_export(session=session, actor=actor, where=where, language=language)
        dispatch(request.app, session, job)
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)
    words = export_words(i18n.translations(language).gettext, KIND_LABELS, SETTING_LABELS)
    return written_file(
        settings.data_dir,
        "contacts.xlsx",
        lambda path: contacts.write_xlsx(
            session=session, actor=actor, cipher=cipher, where=where, path=path, shown=words
        ),
    )


ALL_KINDS = "all"  # the page's kind for every list at once; none chosen is the quarantine list


def _filter_problems(request: Request, query: dict[str, str]) -> list[tuple[str, str]]:
    _ = translator(request)
    problems = []
    if query["kind"] and query["kind"] not in (*KIND_LABELS, ALL_KINDS):
        problems.append(("kind", _("Choose a kind from the list.")))
    for name in ("division", "grid", "case_id"):
        if query[name] and not query[name].isdigit():
            problems.append((name, _("Digits only.")))
    if query["tier"] and not (query["tier"].isdigit() and 1 <= int(query["tier"]) <= 9):
        problems.append(("tier", _("Choose a tier from the list.")))
    return problems


def _where(query: dict[str, str]) -> ContactFilter:
    """A checked query as a filter: no kind is the quarantine list (close and secondary
    contacts), what a commander acts on first; companions and all contacts are one choice
    away."""
    kind = query["kind"]
    return ContactFilter(
        kind=kind if kind in KIND_LABELS else None,
        division=query["division"] or None,
        grid=query["grid"] or None,
        case_id=int(query["case_id"]) if query["case_id"] else None,
        tier=int(query["tier"]) if query["tier"] else None,
        quarantine=not kind,
    )


def _tier_actions() -> dict[int, str]:
    """Each tier's action under the pack in force (central, home, notify), for its badge."""
    return {t.tier: t.action for t in packs.load(packs.DEFAULT_PACK).tiers}


@router.get("/contacts", response_class=HTMLResponse)
def contact_list(
    request: Request,
    actor: Viewer,
    session: DbSession,
    kind: Annotated[str, Query(max_length=12)] = "",
    division: Annotated[str, Query(max_length=12)] = "",
    grid: Annotated[str, Query(max_length=15)] = "",
    case_id: Annotated[str, Query(max_length=10)] = "",
    tier: Annotated[str, Query(max_length=2)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The contact lists, riskiest first: the quarantine list (close and secondary contacts)
    by default, the companions (yellow code and tests) as a list of their own, each row with
    its score's parts."""
    query = {"kind": kind, "division": division, "grid": grid, "case_id": case_id, "tier": tier}
    problems = _filter_problems(request, query)
    pager = Pager.of(page, PAGE_SIZE)
    found = None
    places: dict[int, str] = {}
    if not problems:
        found = contacts.list_contacts(
            session=session,
            actor=actor,
            where=_where(query),
            offset=pager.offset,
            limit=PAGE_SIZE,
        )
        pager = pager.with_total(found.total)
        places = contacts.place_names(session=session, rows=found.rows)
    rows = found.rows if found else []
    # Secondary contacts' parts name the close contact they met: one names query for both.
    via = {e.index_person_id for c in rows for e in c.evidence if e.kind == "secondary"}
    names = people_service.names_of(
        session=session,
        actor=actor,
        person_ids=[c.person_id for c in rows] + sorted(via),
        detail={"page": "contacts"} | {k: v for k, v in query.items() if v},
    )
    # Where contacts live, by name (the codes stay as the cells' titles).
    areas = geo_service.divisions_named(
        session=session, codes=sorted({c.division_code for c in rows})
    )
    grids = geo_service.grids_named(
        session=session, codes=sorted({c.grid_code for c in rows if c.grid_code})
    )
    context = {
        "names": names,
        "areas": areas,
        "grids": grids,
        "query": query,
        "export_query": {k: v for k, v in query.items() if v},
        "export_jobs": jobs_service.recent(
            session=session, actor=actor, kind=jobs.EXPORT, subject="contacts", limit=3
        ),
        "job_labels": jobs_service.LABELS,
        "found": found,
        "places": places,
        "tier_actions": _tier_actions(),
        "pager": pager,
        "problems": {name: [text] for name, text in problems},
        "labels": _labels(request),
    }
    return render(request, "trace/contacts.html", context, status=422 if problems else 200)


def _named(session: DbSession, actor: Actor, graph: NetworkOut, _: Callable[[str], str]) -> None:
    """Label the network's people, and the people who are its cases, with their names (masked
    as the role requires), read in one query; people the user may not read keep their place
    in the graph without a name."""
    case_person = {
        c.id: c.person_id for c in cases_service.list_cases(session=session, actor=actor)
    }
    node_person: dict[str, int] = {}
    for node in graph.nodes:
        kind, _sep, number = node.id.partition(":")
        if kind == "person":
            node_person[node.id] = int(number)
        elif kind == "case" and int(number) in case_person:
            node_person[node.id] = case_person[int(number)]
    names = people_service.names_of(
        session=session,
        actor=actor,
        person_ids=node_person.values(),
        detail={"page": "network"},
    )
    for node in graph.nodes:
        name = names.get(node_person.get(node.id, 0), "")
        kind, _sep, number = node.id.partition(":")
        if kind == "person":
            node.label = name
        else:
            node.label = " ".join(filter(None, [_("Case %(id)s") % {"id": number}, name]))


@router.get("/network", response_class=HTMLResponse)
def network_page(
    request: Request,
    actor: Viewer,
    session: DbSession,
    case_id: Annotated[list[int] | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """Cases → close → secondary contacts as a graph (all cases in scope when none given)."""
    _ = translator(request)
    chosen = [c for c in (case_id or []) if 1 <= c <= 2_147_483_647]
    if not chosen:
        chosen = [c.id for c in cases_service.list_cases(session=session, actor=actor)][-200:]
    graph = contacts.network(session=session, actor=actor, case_ids=chosen)
    _named(session, actor, graph, _)
    labels = _labels(request)
    actions = {k: _(v) for k, v in ACTION_LABELS.items()}
    tiers = {
        f"tier{t}": _("Tier %(tier)s: %(action)s") % {"tier": t, "action": actions[a]}
        for t, a in _tier_actions().items()
    }
    chart = {
        **graph.model_dump(mode="json"),
        "labels": {
            "case": _("Case"),
            **labels["kinds"],
            **tiers,
            "untiered": _("No tier"),
            "score": _("Exposure score"),
            "people": _("People"),
        },
    }
    context = {
        "graph": graph,
        "chart": chart,
        "cases": chosen,
        "problems": translated_problems(request, []),
    }
    return render(request, "trace/network.html", context)
