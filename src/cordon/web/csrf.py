"""CSRF protection of the login form, which is posted before any session exists.

Logged-in forms carry the session's own token (checked in ``web.deps.get_actor``). The login
form has no session yet, so it uses a double-submit cookie: a random value set as a cookie and
repeated in a hidden field. A cross-site page can make the browser send the cookie but cannot
read it, so it cannot repeat it in the form.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from fastapi.responses import Response

LOGIN_CSRF_COOKIE = "cordon_login_csrf"
LOGIN_PATH = "/login"


def login_token(request: Request) -> str:
    """The token already in the browser's cookie, or a new one."""
    existing = request.cookies.get(LOGIN_CSRF_COOKIE)
    if existing and 20 <= len(existing) <= 128:
        return existing
    return secrets.token_urlsafe(32)


def set_login_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=2 * 3600,
        path=LOGIN_PATH,
        httponly=True,
        samesite="strict",
        secure=secure,
    )


def login_token_matches(request: Request, sent: str) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not sent:
        return False
    return hmac.compare_digest(cookie.encode(), sent.encode())
