"""Security headers on every answer: pages load nothing from elsewhere and run no script of
their own, so the Content-Security-Policy can say so (styles may be inline: the pages carry
small `<style>` blocks and `style` attributes, which run nothing); no page may be framed;
a link followed from a page tells other sites nothing of where it came from (a sign-in
link's secret is in its path). The API documentation (Swagger UI, served from here) starts
itself with an inline script, so `/docs` alone allows one."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
          "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
DOCS_POLICY = POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
           (b"x-frame-options", b"DENY"), (b"cross-origin-opener-policy", b"same-origin")]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = (DOCS_POLICY if scope["path"] == "/docs" else POLICY).encode()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((n, v) for n, v in [(b"content-security-policy", policy), *HEADERS]
                                        if n not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)
