"""The action cycle: one action of the strategy through one fiscal year, plan -> do ->
check -> act. Its spec (`spec.py`), its store (`store.py`), what the calendar makes happen
to it (`clock.py`), what its messages say (`views.py`) and its simulated people
(`people.py`)."""

from workflows.action_cycle.spec import (
    ACTION_CYCLE,
    DECISIONS,
    INTERNAL_CHAIR,
    OWNER,
    PROMOTION_CHAIR,
    REPORT_STATUSES,
    numbered_answers,
)

__all__ = ["ACTION_CYCLE", "DECISIONS", "INTERNAL_CHAIR", "OWNER", "PROMOTION_CHAIR", "REPORT_STATUSES",
           "numbered_answers"]
