"""The Jinja2 environment of the pages and ``render``, which every page route answers with.

Translations are looked up per render, not installed globally: the gettext callables read the
catalog from the template context, so concurrent requests in different languages never share
state. Templates that import macros must do so ``with context`` for the same reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from cordon import __version__, clock
from cordon.errors import Problem
from cordon.web import i18n
from cordon.web.deps import LANG_COOKIE
from cordon.web.i18n import N_
from cordon.web.messages import field_label, problem_text, rule_text
from cordon.web.nav import NavEntry, current, visible
from cordon.web.page_deps import shown_actor, shown_csrf_token

# How roles are named in pages (auth.rules keys them; labels here so they can be translated).
ROLE_NAMES = {
    "admin": N_("Administrator"),
    "commander": N_("Commander"),
    "epidemiologist": N_("Epidemiologist"),
    "screening_operator": N_("Screening operator"),
    "grid_worker": N_("Grid worker"),
    "border_officer": N_("Border officer"),
    "analyst": N_("Analyst"),
}

_TRANSLATIONS = "_translations"


def _catalog(context: Context) -> Any:
    found = context.get(_TRANSLATIONS)
    if found is None:  # a macro imported without context: a template bug, not a user error
        raise RuntimeError("translations missing from the template context (import with context)")
    return found


@pass_context
def _gettext(context: Context, message: str) -> str:
    text: str = _catalog(context).gettext(message)
    return text


@pass_context
def _pgettext(context: Context, where: str, message: str) -> str:
    """A message that needs a context to be translated right (a round's name, a count)."""
    text: str = _catalog(context).pgettext(where, message)
    return text


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    text: str = _catalog(context).ngettext(singular, plural, n)
    return text


@pass_context
def _field_label(context: Context, name: str) -> str:
    return field_label(_catalog(context).gettext, name)


@pass_context
def _rule_text(
    context: Context, rule: str, kinds: Mapping[str, str], settings: Mapping[str, str]
) -> str:
    return rule_text(_catalog(context).gettext, rule, kinds, settings)


@pass_context
def _local_time(context: Context, value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC timestamp as wall-clock time in the configured zone (Asia/Shanghai)."""
    if value is None:
        return ""
    zone = ZoneInfo(context.get("timezone") or "Asia/Shanghai")
    return value.astimezone(zone).strftime(fmt)


def _iso_date(value: date | None) -> str:
    return value.isoformat() if value else ""


@pass_context
def _number(context: Context, value: int | float) -> str:
    return format_decimal(value, locale=i18n.locale(context.get("lang") or "zh_CN"))


def _compact_json(value: Any) -> str:
    """A record's detail for a table cell: readable (no \\u escapes), escaped by autoescape."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def make_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("cordon.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext, newstyle=True
    )
    env.filters["local_time"] = _local_time
    env.filters["field_label"] = _field_label
    env.filters["rule_text"] = _rule_text
    env.filters["iso_date"] = _iso_date
    env.filters["number"] = _number
    env.filters["compact_json"] = _compact_json
    env.globals["version"] = __version__
    env.globals["role_names"] = ROLE_NAMES
    return env


environment = make_environment()


def translator(request: Request) -> Callable[[str], str]:
    """gettext in the request's language, for strings made in Python."""
    return i18n.translations(i18n.language_of(request)).gettext


def url_with(request: Request, **changes: Any) -> str:
    """This page's path and query with some parameters changed (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


def translated_problems(request: Request, problems: Iterable[Problem]) -> dict[str, list[str]]:
    """Problems grouped by field, each message translated when the catalog knows it.

    Service messages are English; templates with values and fixed ones are in the catalog
    (``web.messages``), anything else is shown as it is rather than hidden."""
    _ = translator(request)
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        grouped.setdefault(problem.field, []).append(problem_text(_, problem))
    return grouped


def _nav_entries(request: Request) -> list[NavEntry]:
    entries: list[NavEntry] = getattr(request.app.state, "nav", [])
    return entries


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> HTMLResponse:
    """Render a page in the request's language, inside the shell the user may see."""
    language = i18n.language_of(request)
    actor = shown_actor(request)
    settings = request.app.state.settings
    nav = visible(_nav_entries(request), actor)
    here = current(nav, request.url.path)
    values: dict[str, Any] = {
        "request": request,
        "lang": language,
        "html_lang": i18n.HTML_LANG[language],
        _TRANSLATIONS: i18n.translations(language),
        "actor": actor,
        "nav": nav,
        "nav_current": here.path if here else None,
        "csrf_token": shown_csrf_token(request),
        "timezone": settings.timezone,
        "scenario_clock": clock.current(),
        "clock_now": clock.now(),
        "languages": [
            (code, i18n.NATIVE_NAMES[code], url_with(request, lang=code)) for code in i18n.LANGUAGES
        ],
        "url_with": lambda **changes: url_with(request, **changes),
    }
    values.update(context or {})
    body = environment.get_template(template).render(values)
    response = HTMLResponse(body, status_code=status)
    if i18n.chosen_by_query(request):
        # A switch link was followed: remember the choice for the following pages.
        response.set_cookie(
            LANG_COOKIE,
            language,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
        )
    return response
