"""Dependencies of HTML pages.

They wrap ``web.deps`` so that the page shell (navigation, user menu, CSRF field) knows who is
logged in, even when the route later fails and only the error page is rendered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from cordon.auth.schemas import Actor
from cordon.errors import Forbidden
from cordon.web.deps import CurrentActor, session_row


def page_actor(request: Request, actor: CurrentActor) -> Actor:
    request.state.actor = actor
    # Kept as a plain string: the session row expires when the transaction ends or rolls back,
    # and error pages are rendered after that.
    row = session_row(request)
    request.state.csrf_token = row.csrf_token if row is not None and row.csrf_token else ""
    return actor


PageActor = Annotated[Actor, Depends(page_actor)]


def page_require(permission: str) -> Callable[..., Actor]:
    """Like ``web.deps.require``, for pages: the actor stays known to the layout."""

    def check(actor: PageActor) -> Actor:
        if not actor.can(permission):
            raise Forbidden(
                "your role (%(role)s) may not do %(permission)s",
                params=dict(role=actor.role, permission=permission),
            )
        return actor

    return check


def shown_actor(request: Request) -> Actor | None:
    actor: Actor | None = getattr(request.state, "actor", None)
    return actor


def shown_csrf_token(request: Request) -> str:
    token: str = getattr(request.state, "csrf_token", "")
    return token
