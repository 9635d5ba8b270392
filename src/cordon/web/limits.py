"""Request hygiene at the edge: bodies over the upload limit are refused before they are parsed
or spooled to disk, and NUL characters in the path or query (which no database stores) get a
400 before any route runs."""

from __future__ import annotations

import html
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _answer(
        self, status: int = 413, field: str = "file", *, page: bool = False
    ) -> tuple[Message, Message]:
        if status == 413:
            message, detail = (
                f"the request body is larger than {self.max_bytes} bytes",
                f"at most {self.max_bytes} bytes",
            )
        else:
            message, detail = "NUL characters are not allowed in the address", "contains NUL"
        if page:  # a browser gets a page it can show; no template: nothing has run yet
            kind = b"text/html; charset=utf-8"
            title = "文件过大 · File too large" if status == 413 else "请求无效 · Bad request"
            body = (
                f"<!doctype html><meta charset=utf-8><title>{title}</title>"
                f"<h1>{title}</h1><p>{html.escape(message)}</p>"
                "<p><a href='/'>返回首页 · Home</a></p>"
            ).encode()
        else:
            kind = b"application/json"
            body = json.dumps(
                {
                    "error": "too_large" if status == 413 else "bad_request",
                    "message": message,
                    "problems": [{"field": field, "message": detail}],
                }
            ).encode()
        start: Message = {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", kind), (b"connection", b"close")],
        }
        return start, {"type": "http.response.body", "body": body}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page = not scope.get("path", "").startswith("/api/")
        if b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", ""):
            start, body = self._answer(400, "query", page=page)
            await send(start)
            await send(body)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                start, body = self._answer(page=page)
                await send(start)
                await send(body)
                return
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                start, body = self._answer(page=page)
                await send(start)
                await send(body)
