"""The functions the scheduler runs, named by "module:function" so its job store holds
only their names. Each builds its own wiring from the config, as a fresh process would."""

from __future__ import annotations

import logging
from datetime import datetime

from app.bootstrap import Pdca
from app.config import load_settings
from app.scheduler import still_leading
from engine import db
from engine.clock import utc_now
from workflows.tick import tick

log = logging.getLogger("pdca.jobs")


def daily_tick(config: str | None = None, at: str | None = None) -> None:
    """`at` (ISO date-time) is for replays and tests; the scheduler leaves it to the clock."""
    if not still_leading():
        log.warning("tick skipped: this node no longer holds the scheduler lock")
        return
    pdca = Pdca(load_settings(config), create=False)
    try:
        now = datetime.fromisoformat(at) if at else utc_now()
        with db.writing(pdca.engine) as conn:
            report = tick(conn, pdca.registry, pdca.tenants, now=now)
        log.info("tick %s: transitions %s; messages %s", now.isoformat(), dict(report.transitions),
                 dict(report.messages))
    finally:
        pdca.close()


def drain_outbox(config: str | None = None, at: str | None = None, base_url: str | None = None) -> None:
    """`base_url`: where `pdca serve` listens, when the config leaves links to it."""
    from app.mail import delivery

    if not still_leading():
        log.warning("drain skipped: this node no longer holds the scheduler lock")
        return
    settings = load_settings(config)
    if base_url and settings.mail.base_url is None:
        settings = settings.model_copy(update={"mail": settings.mail.model_copy(update={"base_url": base_url})})
    pdca = Pdca(settings, create=False)
    try:
        now = datetime.fromisoformat(at) if at else utc_now()
        report = delivery(pdca).drain(now)
        if report.sent or report.retrying or report.dead:
            log.info("outbox: sent %d, retrying %d, dead %d", report.sent, report.retrying, report.dead)
    finally:
        pdca.close()
