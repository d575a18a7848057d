"""Where rendered messages go: an SMTP server, a folder of .eml files, or the console.

Every sender takes a batch of rendered messages and says, for each, whether it was
delivered, failed for now (worth retrying: 4xx replies, dropped or refused connections,
time-outs) or failed for good (5xx replies, a refused recipient). It says so through `done`
as each reply arrives, before the next message goes on that connection, so the outbox can
record it at once: a crash then leaves at most the messages in flight (one per connection)
unrecorded, and only those are sent again.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path
from typing import Protocol, TextIO

import aiosmtplib


@dataclass(frozen=True)
class Outgoing:
    id: int
    sender: str
    recipient: str
    message_id: str
    raw: bytes


@dataclass(frozen=True)
class Result:
    id: int
    delivered: bool
    permanent: bool = False
    error: str | None = None


Done = Callable[[Result], None]
"""Told each outcome as it is known (the outbox records it before the sender goes on)."""


class Sender(Protocol):
    async def send(self, batch: Sequence[Outgoing], done: Done | None = None) -> list[Result]: ...

    async def close(self) -> None: ...


class FileSender:
    """One .eml file per message, named by its Message-ID: sending again rewrites the same
    file, so a resend never makes a second copy."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    async def send(self, batch: Sequence[Outgoing], done: Done | None = None) -> list[Result]:
        self.folder.mkdir(parents=True, exist_ok=True)
        results: list[Result] = []
        for message in batch:
            name = re.sub(r"[^A-Za-z0-9._-]", "_", message.message_id.strip("<>")) + ".eml"
            partial = self.folder / f".{name}.part"
            partial.write_bytes(message.raw)
            os.replace(partial, self.folder / name)
            _tell(results, done, Result(message.id, True))
        return results

    async def close(self) -> None:
        return None


class ConsoleSender:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    async def send(self, batch: Sequence[Outgoing], done: Done | None = None) -> list[Result]:
        results: list[Result] = []
        for message in batch:
            parsed = message_from_bytes(message.raw)
            subject = str(make_header(decode_header(parsed["Subject"])))
            self.stream.write(f"--- {message.message_id} to {message.recipient}\n{subject}\n")
            for part in parsed.walk():
                if part.get_content_type() == "text/plain":
                    payload = part.get_payload(decode=True)
                    assert isinstance(payload, bytes)
                    self.stream.write(payload.decode(part.get_content_charset() or "utf-8") + "\n")
            _tell(results, done, Result(message.id, True))
        return results

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # starttls | tls | none
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    connections: int = 4


def _classify(message: Outgoing, exc: BaseException) -> Result:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        permanent = all(500 <= c < 600 for c in codes)
        text = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        return Result(message.id, False, permanent, f"recipient refused: {text}")
    if isinstance(exc, aiosmtplib.SMTPResponseException) and not isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return Result(message.id, False, 500 <= exc.code < 600, f"{exc.code} {exc.message}")
    return Result(message.id, False, False, f"{type(exc).__name__}: {exc}")


class SmtpSender:
    """A few reused connections, each reconnected when it drops; messages are spread over
    them, so at most `connections` exchanges are in flight."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._clients: list[aiosmtplib.SMTP] = []

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.host, port=s.port, timeout=s.timeout,
            use_tls=s.security == "tls", start_tls=s.security == "starttls",
        )

    async def _ready(self, slot: int) -> aiosmtplib.SMTP:
        while len(self._clients) <= slot:
            self._clients.append(self._client())
        client = self._clients[slot]
        if not client.is_connected:
            await client.connect()
            if self.settings.username:
                await client.login(self.settings.username, self.settings.password or "")
        return client

    async def _worker(self, slot: int, queue: asyncio.Queue[Outgoing], results: list[Result],
                      done: Done | None) -> None:
        while not queue.empty():
            message = queue.get_nowait()
            try:
                client = await self._ready(slot)
            except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
                # Connecting, greeting or logging in failed: the server's trouble, not the
                # message's, whatever the code. Try again later on a fresh connection.
                _tell(results, done, Result(message.id, False, False, f"connection: {type(exc).__name__}: {exc}"))
                await self._drop(slot)
                continue
            try:
                errors, _ = await client.sendmail(message.sender, [message.recipient], message.raw)
            except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
                _tell(results, done, _classify(message, exc))
                if not isinstance(exc, aiosmtplib.SMTPRecipientsRefused | aiosmtplib.SMTPResponseException) or \
                        isinstance(exc, aiosmtplib.SMTPServerDisconnected):
                    await self._drop(slot)
                continue
            if errors:  # a partly refused recipient list comes back as a value, not an exception
                code, text = errors[message.recipient]
                _tell(results, done, Result(message.id, False, 500 <= code < 600, f"recipient refused: {code} {text}"))
            else:
                _tell(results, done, Result(message.id, True))

    async def _drop(self, slot: int) -> None:
        client = self._clients[slot]
        if client.is_connected:
            client.close()
        self._clients[slot] = self._client()

    async def send(self, batch: Sequence[Outgoing], done: Done | None = None) -> list[Result]:
        queue: asyncio.Queue[Outgoing] = asyncio.Queue()
        for message in batch:
            queue.put_nowait(message)
        results: list[Result] = []
        workers = max(1, min(self.settings.connections, len(batch)))
        await asyncio.gather(*(self._worker(slot, queue, results, done) for slot in range(workers)))
        return results

    async def close(self) -> None:
        for client in self._clients:
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    client.close()
        self._clients.clear()


def _tell(results: list[Result], done: Done | None, result: Result) -> None:
    """Keep an outcome, and tell it at once to whoever records it."""
    results.append(result)
    if done is not None:
        done(result)
