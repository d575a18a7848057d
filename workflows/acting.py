"""What the simulated people of every workflow share (`pdca simulate --actors auto`, the
living sample): a step they take is counted in the month's report by the triggers it
fired (with any automatic follow-ups), and a step the workflow refuses is counted as
refused, never raised: a simulated person, like a real one, is sometimes told no."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from engine.errors import Refused


def take_step(month: Any, step: Callable[[], Sequence[Any]]) -> None:
    """Run `step` (an `open` or `fire_in`, returning its events) and count what it did."""
    try:
        events = step()
    except Refused:
        month.refused += 1
        return
    for event in events:
        month.transitions[event.trigger] += 1
