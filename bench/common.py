"""What the benches share: the sample config, and a database of generated actions.

Import it as `bench.common` with the repository root on sys.path (each bench puts it
there), never with bench/ itself on sys.path: bench/transitions.py would shadow the
`transitions` package the engine is built on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, insert, select

from app.bootstrap import Pdca
from app.config import load_settings
from workflows import service
from workflows.models import Action, ActionOwner
from workflows.tick import open_year as tick_open_year

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.toml"
OWNER = "nourin@city.example.jp"
FY = 2026


def open_pdca(database: Path, config: Path = CONFIG) -> Pdca:
    """A Pdca on this SQLite file, configured by the sample config (or a copy of it)."""
    return Pdca(load_settings(config, env={"PDCA_DATABASE_URL": f"sqlite:///{database}"}))


def prepare(pdca: Pdca) -> int:
    """Schema, people and councils; returns the strategy id."""
    pdca.migrate()
    return pdca.sync()


def open_year(pdca: Pdca, conn: Connection, *, strategy: int, fy: int, now: datetime,
              codes: list[str] | None = None) -> int:
    """Open a fiscal year's cycles as the plan window does (`pdca import --open-fy`)."""
    return tick_open_year(conn, pdca.registry, pdca.tenants.get(conn, strategy), fy=fy, now=now, codes=codes)


def add_actions(conn: Connection, *, strategy: int, codes: Sequence[str], plans: Sequence[str],
                owner: str = OWNER) -> list[int]:
    """Active actions with one owner each, inserted in bulk; their ids in `codes` order."""
    person = service.actor_for(conn, owner)
    conn.execute(
        insert(Action),
        [
            {"strategy_id": strategy, "code": code, "basic_policy": "bench", "title_ja": f"ベンチ {code}",
             "division": "農政課", "plan": plan, "status": "active"}
            for code, plan in zip(codes, plans, strict=True)
        ],
    )
    ids = dict(conn.execute(
        select(Action.code, Action.id).where(Action.strategy_id == strategy, Action.code.in_(list(codes)))  # type: ignore[attr-defined]
    ).all())
    ordered = [ids[code] for code in codes]
    conn.execute(insert(ActionOwner), [{"action_id": a, "person_id": person.person_id} for a in ordered])
    return ordered
