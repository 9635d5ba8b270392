"""Mounts every slice's pages and renders error pages.

Each slice's ``pages`` module offers ``router`` (its HTML routes) and ``NAV`` (its menu
entries); adding a slice's pages is adding it to ``SLICES``.
"""

from __future__ import annotations

from types import ModuleType

from fastapi import FastAPI, Request
from fastapi.responses import Response

from cordon.audit import pages as audit_pages
from cordon.auth import pages as auth_pages
from cordon.cases import pages as cases_pages
from cordon.clock import pages as clock_pages
from cordon.codes import pages as codes_pages
from cordon.errors import CordonError
from cordon.geo import pages as geo_pages
from cordon.jobs import pages as jobs_pages
from cordon.people import pages as people_pages
from cordon.screening import pages as screening_pages
from cordon.trace import pages as trace_pages
from cordon.web.i18n import N_
from cordon.web.messages import error_text
from cordon.web.nav import NavEntry
from cordon.web.templating import render, translated_problems, translator

SLICES: tuple[ModuleType, ...] = (
    auth_pages,
    geo_pages,
    people_pages,
    cases_pages,
    trace_pages,
    codes_pages,
    screening_pages,
    audit_pages,
    clock_pages,
    jobs_pages,
)

STATUS_TITLES = {
    400: N_("The request could not be handled"),
    401: N_("Please log in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    409: N_("Conflict with existing data"),
    413: N_("File too large"),
    422: N_("Invalid input"),
    429: N_("Too many attempts"),
}
DEFAULT_TITLE = N_("Something went wrong")
STATUS_HINTS = {
    403: N_("Your role may not do this. Ask an administrator if you need it."),
    404: N_("The page or record does not exist, or lies outside your jurisdiction."),
    429: N_("Wait a while before trying again."),
}


def error_page(request: Request, exc: CordonError, status: int | None = None) -> Response:
    """The HTML answer to a domain error on a page, in the user's language."""
    code = status or exc.status_code
    _ = translator(request)
    context = {
        "status": code,
        "title": _(STATUS_TITLES.get(code, DEFAULT_TITLE)),
        "hint": _(STATUS_HINTS[code]) if code in STATUS_HINTS else "",
        "message": error_text(_, exc),
        "problems": translated_problems(request, exc.problems),
    }
    return render(request, "error.html", context, status=code)


def mount(app: FastAPI) -> None:
    entries: list[NavEntry] = []
    for module in SLICES:
        app.include_router(module.router)
        entries.extend(module.NAV)
    # Per app, not module-global, so several apps (tests) never see each other's entries.
    app.state.nav = entries
