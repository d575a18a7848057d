"""What the calendar makes happen to a strategy's own process, once per tick:

  no process yet          begin it (active, or adopted for a next strategy not yet begun)
  its first year begins   an adopted strategy becomes active
  the mid-term year       open the mid-term review on its date (if one is configured)
  the target year         open the final review on its date
  before and after a due  remind whoever the review or the draft waits for
  target year published   a finishing strategy is superseded

One instance per strategy, so the steps go one at a time through the machine (guards,
recorders, notices), never in bulk.
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from sqlalchemy import Integer, String, literal, select

from engine.calendar import reminder_step
from engine.runtime import SYSTEM_ACTOR, Instance
from engine.spec import Label
from workflows.models import Strategy, StrategyProcess
from workflows.registry import MessageKind
from workflows.strategy_review.store import StrategyStore
from workflows.tick import TickContext

KINDS = (
    MessageKind("final_review_opened", "notice", False, Label("最終評価の開始", "Final review opened")),
    MessageKind("mid_review_opened", "notice", False, Label("中間評価の開始", "Mid-term review opened")),
    MessageKind("strategy_step", "notice", False, Label("戦略の進行管理のお知らせ", "The strategy moved on")),
    MessageKind("strategy_reminder", "deadline", True, Label("戦略の評価・策定の期限のお知らせ",
                                                             "Review or draft reminder")),
    MessageKind("strategy_overdue", "deadline", True, Label("戦略の評価・策定の期限超過", "Review or draft overdue")),
)


def clock(t: TickContext) -> None:
    store = cast(StrategyStore, t.entry.store)
    tenant, today = t.tenant, t.today
    instance = store.instance_of(t.conn, tenant.id)
    if instance is None:
        _begin(t)
        instance = store.instance_of(t.conn, tenant.id)
        if instance is None:
            return
    begins = tenant.calendar.year_begins(tenant.first_fy).date()
    review = tenant.review
    start_month = tenant.calendar.start[0]
    step = None
    if instance.state == "adopted" and today >= begins:
        step = "start"
    elif instance.state == "active":
        mid = review.mid_review_fy
        if mid and tenant.first_fy <= mid < tenant.target_fy and not instance.data["mid_review_summary"] \
                and review.day(mid, "mid_review_opens", start_month) <= today <= review.day(mid, "mid_review_due",
                                                                                            start_month):
            step = "open_mid_review"
        elif today >= review.day(tenant.target_fy, "final_review_opens", start_month):
            step = "open_final_review"
    elif instance.state == "finishing" and store.published(t.conn, instance):
        step = "supersede"
    if step:
        t.entry.workflow.fire_in(t.conn, instance.id, step, SYSTEM_ACTOR, {}, now=t.now)
        t.report.transitions[step] += 1
        instance = store.instance_of(t.conn, tenant.id) or instance
    _remind(t, store, instance)


def _begin(t: TickContext) -> None:
    """The strategy's process comes into being on the first tick that sees the strategy: a
    strategy adopted as a successor waits as `adopted` until its first year begins."""
    tenant = t.tenant
    has_process = select(StrategyProcess.id).where(StrategyProcess.tenant_id == Strategy.id).exists()
    rows = select(literal(tenant.id, Integer), Strategy.name_ja.cast(String)).where(  # type: ignore[attr-defined]
        Strategy.id == tenant.id, ~has_process)
    begun = t.today >= tenant.calendar.year_begins(tenant.first_fy).date()
    t.open("begin" if begun or tenant.predecessor_id is None else "begin_adopted", rows, ["tenant_id", "title"])


def _remind(t: TickContext, store: StrategyStore, instance: Instance) -> None:
    due = store.due(t.conn, instance)
    if due is None:
        return
    settings = t.tenant.calendar.settings
    step = reminder_step(t.today, due, before=settings.reminder_days, every=settings.repeat_days,
                         until=due + timedelta(days=6 * settings.repeat_days))
    if step:
        kind = "strategy_reminder" if step.startswith("-") else "strategy_overdue"
        t.report.messages[kind] += store.remind(t.conn, instance, due=due, step=step, now=t.now)
