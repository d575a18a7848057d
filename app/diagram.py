"""A spec as a Mermaid state diagram, drawn from the spec's own data.

`transitions` can draw Mermaid too, but writes dotted state ids (which Mermaid reads as
nothing special only by luck) and cannot show who fires each trigger; the spec has all of
that, so it is drawn here in a few lines.
"""

from __future__ import annotations

from engine.spec import WorkflowSpec


def _id(state: str) -> str:
    return state.replace(".", "_")


def mermaid(spec: WorkflowSpec) -> str:
    lines = ["stateDiagram-v2"]
    if not spec.openings:
        lines.append(f"  [*] --> {_id(spec.initial)}")
    groups: dict[str | None, list[str]] = {}
    for state in spec.states:
        groups.setdefault(state.parent, []).append(state.name)
    for parent, names in groups.items():
        indent = "  " if parent is None else "    "
        if parent is not None:
            lines.append(f"  state {parent} {{")
        for name in names:
            state = spec.state(name)
            leaf = name.rpartition(".")[2]
            due = f" (due: {state.deadline})" if state.deadline else ""
            lines.append(f"{indent}{_id(name)} : {leaf} {state.label.ja}{due}")
        if parent is not None:
            lines.append("  }")
    for t in spec.openings:
        lines.append(f"  [*] --> {_id(t.dest)} : {t.name} ({' / '.join(t.roles)})")
    for t in spec.triggers:
        auto = ", automatic" if t.automatic else ""
        lines.append(f"  {_id(t.source)} --> {_id(t.dest)} : {t.name} ({' / '.join(t.roles)}{auto})")
    lines += [f"  {_id(s.name)} --> [*]" for s in spec.states if s.final]
    return "\n".join(lines) + "\n"
