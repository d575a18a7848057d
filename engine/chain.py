"""Checking the audit trail's hash chains: which rows no longer fit where they were written.

Each tenant's audit rows form a chain (`engine.audit`): the row at place n holds the hash of
the row at place n-1 and the hash of its own place and content with that link. `verify`
walks a chain in order and names every row that does not fit:

- `altered`: its content or its place is not what was written (its hash does not match);
- `deleted`: places are missing before it (rows were removed);
- `inserted`: a second row at a place the chain already has, or a row with no place at all
  (written around pdca, straight into the table);
- `relinked`: it does not follow the row before it, though both match their own hashes
  (the row before was replaced by one rehashed to look whole, or the rows renumbered);
- `moved`: it is listed before a row written before it (ids reordered);
- `anchor`: a head recorded elsewhere (a publication) is no longer in the chain, i.e. the
  chain was rewritten after that point, even if it is whole again.

The engine knows no publications: the caller passes the heads it knows as `Anchor`s.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, or_, select

from engine.audit import COLUMNS, GENESIS, audit_table, chain_of, link

_CHECKED = (audit_table.c.id, audit_table.c.seq, audit_table.c.prev_hash, audit_table.c.hash,
            *(audit_table.c[name] for name in COLUMNS))


@dataclass(frozen=True)
class Anchor:
    """A chain head recorded outside the log: `name` says where (e.g. 'FY2025 v1')."""

    name: str
    seq: int
    hash: str


@dataclass(frozen=True)
class Problem:
    kind: str  # altered | deleted | inserted | relinked | moved | anchor
    row_id: int | None = None
    seq: int | None = None
    workflow: str | None = None
    instance_id: int | None = None
    trigger: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "row": self.row_id, "seq": self.seq, "workflow": self.workflow,
                "instance": self.instance_id, "trigger": self.trigger, **self.detail}


@dataclass(frozen=True)
class Verified:
    tenant_id: int | None
    rows: int
    head_seq: int
    head_hash: str
    problems: Sequence[Problem]

    @property
    def intact(self) -> bool:
        return not self.problems


def _problem(kind: str, row: Mapping[str, Any], **detail: Any) -> Problem:
    return Problem(kind, row["id"], row["seq"], row["workflow"], row["instance_id"], row["trigger"], detail)


def _genuine(rows: list[Mapping[str, Any]], following: list[Mapping[str, Any]] | None,
             before: str) -> Mapping[str, Any]:
    """Of several rows at one place, the one the chain goes through: the one the next place
    links to, else the one that links to the row before, else the first written."""
    for fits in ((lambda r: any(n["prev_hash"] == r["hash"] for n in following or ())),
                 (lambda r: r["prev_hash"] == before)):
        chosen = [r for r in rows if fits(r)]
        if chosen:
            return chosen[0]
    return rows[0]


def _places(conn: Connection, tenant_id: int | None) -> Iterator[list[Mapping[str, Any]]]:
    """The chain's rows grouped by place, in order, read in batches."""
    result = conn.execute(
        select(*_CHECKED).where(chain_of(tenant_id), audit_table.c.hash.is_not(None), audit_table.c.seq.is_not(None))
        .order_by(audit_table.c.seq, audit_table.c.id).execution_options(yield_per=2000)
    ).mappings()
    for _, rows in groupby(result, key=itemgetter("seq")):
        yield list(rows)


def verify(conn: Connection, tenant_id: int | None, *, anchors: Iterable[Anchor] = ()) -> Verified:
    """Walk one tenant's chain and name every row that does not fit (see the module)."""
    anchors = list(anchors)
    wanted = {a.seq for a in anchors}
    seen: dict[int, str] = {}
    problems: list[Problem] = []
    count, expected, before, last_id = 0, 1, GENESIS, 0
    head_seq, head_hash = 0, GENESIS
    places = _places(conn, tenant_id)
    pending = next(places, None)
    while pending is not None:
        following = next(places, None)
        row = _genuine(pending, following, before)
        problems += [_problem("inserted", r, place=r["seq"]) for r in pending if r is not row]
        seq = row["seq"]
        whole = link(row["prev_hash"], row) == row["hash"]
        if seq > expected:
            problems.append(_problem("deleted", row, missing_from=expected, missing_to=seq - 1))
        if not whole:
            problems.append(_problem("altered", row))
        elif seq <= expected and row["prev_hash"] != before:
            problems.append(_problem("relinked", row))
        if row["id"] < last_id:
            problems.append(_problem("moved", row, after_row=last_id))
        if seq in wanted:
            seen[seq] = row["hash"]
        count += len(pending)
        expected, before, last_id = seq + 1, row["hash"], max(last_id, row["id"])
        head_seq, head_hash = seq, row["hash"]
        pending = following
    unsealed = conn.execute(
        select(*_CHECKED)
        .where(chain_of(tenant_id), or_(audit_table.c.hash.is_(None), audit_table.c.seq.is_(None)))
        .order_by(audit_table.c.id)
    ).mappings().all()
    problems += [_problem("inserted", r, place=None) for r in unsealed]
    problems += [Problem("anchor", seq=a.seq, detail={"anchor": a.name})
                 for a in anchors if seen.get(a.seq) != a.hash]
    return Verified(tenant_id, count + len(unsealed), head_seq, head_hash, problems)
