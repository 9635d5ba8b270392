"""UI language: which one a request gets, and the gettext catalogs behind it.

Source strings are English; ``i18n/zh_CN/LC_MESSAGES/messages.po`` holds the Simplified Chinese.
The .po file is compiled in memory on first use (Babel's ``read_po`` + ``write_mo``), so no
compiled ``.mo`` is committed or built. English needs no catalog: the msgids are the English.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Final

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from fastapi import Request

from cordon.web.deps import LANG_COOKIE

LANGUAGES: Final = ("zh_CN", "en")
DOMAIN: Final = "messages"
LANG_PARAM: Final = "lang"
# The value of <html lang> (BCP 47) for each UI language.
HTML_LANG: Final = {"zh_CN": "zh-CN", "en": "en"}
# How each language names itself in the switcher (never translated).
NATIVE_NAMES: Final = {"zh_CN": "中文", "en": "English"}


def N_(message: str) -> str:
    """Mark a string for extraction where it is defined; it is translated where it is shown."""
    return message


def po_path(language: str) -> Traversable:
    return resources.files("cordon.web").joinpath("i18n", language, "LC_MESSAGES", f"{DOMAIN}.po")


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of ``language``; English (the source language) passes strings through."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    if language == "en":
        return gettext.NullTranslations()
    with po_path(language).open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@cache
def locale(language: str) -> Locale:
    return Locale.parse(language)


def chosen_by_query(request: Request) -> str | None:
    """The language asked for with ``?lang=`` on this request, if it is one we have."""
    asked = request.query_params.get(LANG_PARAM)
    return asked if asked in LANGUAGES else None


def chosen_by_header(request: Request) -> str | None:
    """The first language of Accept-Language that we have (zh* is Simplified Chinese)."""
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return None


def api_language_of(request: Request) -> str:
    """For API answers: ``?lang=``, then Accept-Language, then the cookie and the default."""
    return chosen_by_query(request) or chosen_by_header(request) or language_of(request)


def api_gettext(request: Request) -> Callable[[str], str]:
    """gettext in the language of the request's API answer."""
    return translations(api_language_of(request)).gettext


def language_of(request: Request) -> str:
    """``?lang=`` first (a switch link), then the cookie, then the configured default."""
    asked = chosen_by_query(request)
    if asked:
        return asked
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGUAGES:
        return cookie
    default: str = request.app.state.settings.default_language
    return default
