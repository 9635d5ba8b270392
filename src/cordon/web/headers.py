"""Security headers on every answer, as the outermost middleware (early refusals get them too).

* ``Content-Security-Policy``: scripts, styles, fonts and fetches from this origin only (the
  front-end libraries are vendored under /static; pages pass data to their scripts in
  ``<script type="application/json">`` blocks, which are not executed), images also as
  ``data:`` URIs (inline SVG QR codes, chart exports), no plugins, forms post only here, and
  ``frame-ancestors 'none'`` so no other site can frame a page (clickjacking). The OpenAPI
  viewer (/docs) is FastAPI's page with an inline start-up script: it gets its own policy that
  allows that and the viewer's files, and nothing else does.
* ``X-Content-Type-Options: nosniff``; ``X-Frame-Options: DENY`` for older browsers;
  ``Referrer-Policy: no-referrer`` (a search by identity number puts it in the address);
  ``Cross-Origin-Opener-Policy: same-origin``; a ``Permissions-Policy`` that turns off the
  camera, microphone and location; HSTS when the cookies are marked secure (behind HTTPS).
* ``Cache-Control: no-store`` on everything but /static: pages and API answers carry personal
  data, and no shared or browser cache may keep them.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")

_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.page_headers = [*_COMMON, (b"content-security-policy", POLICY.encode())]
        self.docs_headers = [*_COMMON, (b"content-security-policy", DOCS_POLICY.encode())]
        if hsts:
            hsts_header = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
            self.page_headers.append(hsts_header)
            self.docs_headers.append(hsts_header)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        docs = path.startswith(DOCS_PATHS)
        extra = list(self.docs_headers if docs else self.page_headers)
        if not path.startswith("/static/"):
            extra.append((b"cache-control", b"no-store"))
        names = {name for name, _ in extra}

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in names
                ]
                message = {**message, "headers": headers + extra}
            await send(message)

        await self.app(scope, receive, with_headers)
