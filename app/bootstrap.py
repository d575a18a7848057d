"""The composition root: settings in, wired parts out. Nothing is opened until asked.

The workflows a deployment runs are registered here, and only here: each is its spec, its
store, its clock, its message kinds and views, and its simulated people, all from its own
package in `workflows/`. Everything else takes them from `Pdca.registry`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

import app.web.models  # noqa: F401  (the web's tables belong to the schema too)
from app.config import Settings
from engine import db
from engine.runtime import Workflow
from engine.spec import Label
from workflows import action_cycle, opinion, strategy_review
from workflows.action_cycle import clock as action_cycle_clock
from workflows.action_cycle import mail as action_cycle_mail
from workflows.action_cycle import people as action_cycle_people
from workflows.action_cycle import results as action_cycle_results
from workflows.action_cycle.store import CycleStore
from workflows.calendar import Calendar
from workflows.calendar_store import seed_reminders, seed_years
from workflows.directory import Synced, sync_directory
from workflows.exchange import people as exchange_people
from workflows.exchange.spec import EXCHANGE
from workflows.exchange.store import ExchangeStore
from workflows.hub import joining as hub_joining
from workflows.hub import people as hub_people
from workflows.hub import public as hub_public
from workflows.hub import spec as hub_spec
from workflows.hub.store import HubStore
from workflows.meeting import clock as meeting_clock
from workflows.meeting import people as meeting_people
from workflows.meeting import public as meeting_public
from workflows.meeting.spec import MEETING
from workflows.meeting.store import MeetingStore
from workflows.opinion import clock as opinion_clock
from workflows.opinion import store as opinion_store
from workflows.registry import Entry, MessageKind, Registry
from workflows.strategy_review import clock as strategy_clock
from workflows.strategy_review import people as strategy_people
from workflows.strategy_review.store import StrategyStore
from workflows.tenants import Tenants

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def register(tenants: Tenants) -> list[Entry]:
    """The city's workflows, the strategy's own yearly process first."""
    cycles = Workflow(action_cycle.ACTION_CYCLE, CycleStore(tenants))
    strategies = StrategyStore(tenants, series=action_cycle_results.measured_series,
                               snapshot=action_cycle_results.year_results)
    opinions = Workflow(opinion.OPINION, opinion_store.OpinionStore(tenants, parent=action_cycle.ACTION_CYCLE))
    hubs = HubStore(tenants)
    meetings = MeetingStore(tenants, parent=action_cycle.ACTION_CYCLE)
    exchange = ExchangeStore(tenants)
    return [
        Entry(cycles, clock=action_cycle_clock.clock, kinds=action_cycle_mail.KINDS,
              views=partial(action_cycle_mail.views, tenants=tenants),
              extras=action_cycle_mail.extras, people=action_cycle_people.Actors,
              options={"open_year": action_cycle_clock.open_cycles, "template": "action.html",
                       "results": action_cycle_results, "seat_kinds": action_cycle_mail.seat_kinds,
                       "hub_items": hub_public.for_publication,
                       "meetings": partial(meeting_public.for_publication, store=meetings)}),
        Entry(opinions, clock=opinion_clock.clock, kinds=opinion_clock.KINDS, views=opinion_store.views,
              extras=opinion_store.extras, parent=cycles.spec.name, options={"segment": "opinions"}),
        Entry(Workflow(strategy_review.STRATEGY_REVIEW, strategies), clock=strategy_clock.clock,
              kinds=strategy_clock.KINDS, views=strategies.views, people=strategy_people.Actors,
              options={"strategy_level": True}),
        Entry(Workflow(hub_spec.HUB_ITEM, hubs), kinds=HUB_KINDS, views=hubs.views, people=hub_people.Actors),
        hub_joining.register(tenants),
        Entry(Workflow(MEETING, meetings), clock=meeting_clock.clock, kinds=meeting_clock.KINDS, views=meetings.views,
              people=meeting_people.Actors),
        Entry(Workflow(EXCHANGE, exchange), kinds=EXCHANGE_KINDS, views=exchange.views, people=exchange_people.Actors),
    ]


HUB_KINDS = (
    MessageKind("hub_received", "notice", label=Label("情報拠点: 提出がありました", "Hub: an item was sent")),
    MessageKind("hub_accepted", "notice", label=Label("情報拠点: 採用されました", "Hub: accepted")),
    MessageKind("hub_returned", "notice", label=Label("情報拠点: 差し戻されました", "Hub: returned for changes")),
    MessageKind("hub_rejected", "notice", label=Label("情報拠点: 不採用になりました", "Hub: rejected")),
    MessageKind("hub_withdrawn", "notice", label=Label("情報拠点: 公開を取りやめました", "Hub: withdrawn")),
)
"""What the hub tells people: the curators of each item sent, the sender of each decision."""

EXCHANGE_KINDS = (
    MessageKind("exchange_posted", "notice", label=Label("情報交換: 新しい話題", "Exchange: a new topic")),
    MessageKind("exchange_replied", "notice", label=Label("情報交換: 返信がありました", "Exchange: a reply")),
    MessageKind("exchange_hidden", "notice", label=Label("情報交換: 非公開になりました", "Exchange: hidden")),
)
"""What the exchange tells people: the secretariat and the owners of the actions concerned
of a new topic, those in a topic's conversation of a reply, its author of its hiding."""


EXTRA_WORKFLOWS: list[Callable[[Tenants], Entry]] = []
"""More workflows to register after the city's (a test's example workflow, say)."""


@dataclass
class Pdca:
    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)
    create: bool = True
    """False: a SQLite database that does not exist is an error (`db.MissingDatabase`);
    only `pdca init` makes one."""
    strategy: str | None = None
    """The strategy commands act on (`--strategy`); None: the only one, or the first."""
    last_sync: Synced | None = field(default=None, repr=False)

    @cached_property
    def engine(self) -> Engine:
        return self._engine or db.open_engine(self.settings.database.url, create=self.create)

    @cached_property
    def tenants(self) -> Tenants:
        return Tenants(self.settings.tenant_setups())

    @cached_property
    def registry(self) -> Registry:
        return Registry([*register(self.tenants), *(extra(self.tenants) for extra in EXTRA_WORKFLOWS)])

    @property
    def workflow(self) -> Workflow:
        """The strategy's own yearly process (the registry's first workflow)."""
        return self.registry.primary.workflow

    @property
    def strategy_code(self) -> str:
        return self.strategy or self.tenants.default_code

    @property
    def calendar(self) -> Calendar:
        """The chosen strategy's calendar."""
        return self.tenants.calendar_of(self.strategy_code)

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest revision."""
        command.upgrade(alembic_config(self.engine), "head")

    def known_revisions(self) -> set[str]:
        """The schema releases this pdca can read or upgrade from."""
        return {rev.revision for rev in ScriptDirectory.from_config(alembic_config(self.engine)).walk_revisions()}

    def schema_state(self) -> Literal["current", "missing", "behind", "unknown"]:
        """Whether the database holds this release's schema: `missing` before `pdca init`,
        `behind` when an upgrade is due, `unknown` for a revision this release does not know
        (a newer release migrated it)."""
        script = ScriptDirectory.from_config(alembic_config(self.engine))
        with self.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        if current is None:
            return "missing"
        if current == script.get_current_head():
            return "current"
        return "behind" if current in self.known_revisions() else "unknown"

    def sync(self) -> int:
        """People, strategies and bodies from the config over what it wrote itself, and
        each strategy's calendar years and reminder series where the database has none yet:
        an admin's change on the web is never undone (what was kept is in `last_sync`).
        Returns the chosen strategy's id."""
        with db.writing(self.engine) as conn:
            self.last_sync = sync_directory(conn, self.settings.people, self.settings.all_strategies())
            ids = self.last_sync.strategy_ids
            for setup in self.settings.tenant_setups():
                seed_years(conn, ids[setup.code], setup.calendar)
                seed_reminders(conn, ids[setup.code], setup.calendar)
        self.tenants.forget()
        return ids[self.strategy_code]

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
