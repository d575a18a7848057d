"""Forms arrive in UTF-8, as every page here declares: a urlencoded form body whose bytes are
not UTF-8 (a script posting Shift_JIS, say) is refused with 400 before any route reads it.
Starlette would decode it with replacement characters, and the step would go through with
the mangled text. A plain ASGI middleware, so the body it read is handed on unchanged."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FORM = b"application/x-www-form-urlencoded"
LARGEST = 1 << 20
"""A urlencoded form larger than this is not checked here (the routes' own limits apply)."""


def is_utf8_form(body: bytes) -> bool:
    for pair in body.split(b"&"):
        for part in pair.split(b"=", 1):
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return False
    return True


class Utf8Forms:
    def __init__(self, app: ASGIApp, refuse: ASGIApp) -> None:
        self.app = app
        self.refuse = refuse
        """The answer to a form that is not UTF-8 (a page in words, JSON for the API)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not _is_form(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more and size <= LARGEST:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                await self.app(scope, _replay(b"".join(chunks), True, receive, message), send)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = bool(message.get("more_body"))
        body = b"".join(chunks)
        if not more and not is_utf8_form(body):
            await self.refuse(scope, _replay(body, False, receive), send)
            return
        await self.app(scope, _replay(body, more, receive), send)


def _is_form(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return value.split(b";")[0].strip().lower() == FORM
    return False


def _replay(body: bytes, more: bool, receive: Receive, then: Message | None = None) -> Receive:
    """A `receive` that gives the body already read, then (`then` and) what the client sends."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": more}]
    if then is not None:
        pending.append(then)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
