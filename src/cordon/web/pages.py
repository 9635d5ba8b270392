"""Mounts every slice's pages and renders error pages. (Placeholder until the page shell.)"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from cordon.errors import CordonError


def error_page(request: Request, exc: CordonError, status: int | None = None) -> Response:
    return HTMLResponse(f"<h1>{exc.message}</h1>", status_code=status or exc.status_code)


def mount(app: FastAPI) -> None:
    return None
