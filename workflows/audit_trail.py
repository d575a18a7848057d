"""Checking a strategy's audit trail against itself and against what was published.

`engine.chain` walks a chain; this adds what only the city's workflows know: a strategy's
chain is its tenant's, and each yearly publication recorded the chain's head when it was
made, so a chain rewritten after a publication (even one made whole again) is found.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from engine.chain import Anchor, Verified, verify
from workflows.models import Publication, Strategy


@dataclass(frozen=True)
class Checked:
    strategy: str | None  # its code; None for the rows that belong to no strategy
    verified: Verified


def anchors_of(conn: Connection, strategy_id: int) -> list[Anchor]:
    """The heads the strategy's publications recorded, named 'FY2025 v1' (older
    publications, made before the chain, recorded none)."""
    rows = conn.execute(select(Publication.fy, Publication.version, Publication.content)
                        .where(Publication.strategy_id == strategy_id)
                        .order_by(Publication.fy, Publication.version)).all()  # type: ignore[arg-type]
    return [Anchor(f"FY{r.fy} v{r.version}", int(r.content["audit_head"]["seq"]), str(r.content["audit_head"]["hash"]))
            for r in rows if isinstance(r.content.get("audit_head"), dict)]


def check(conn: Connection, *, strategy_code: str | None = None) -> list[Checked]:
    """Every strategy's chain (or only `strategy_code`'s), with the rows of no strategy last
    when all are checked."""
    query = select(Strategy.id, Strategy.code).order_by(Strategy.id)  # type: ignore[arg-type]
    if strategy_code is not None:
        query = query.where(Strategy.code == strategy_code)
    found = [Checked(r.code, verify(conn, r.id, anchors=anchors_of(conn, r.id))) for r in conn.execute(query)]
    if strategy_code is None:
        found.append(Checked(None, verify(conn, None)))
    return found
