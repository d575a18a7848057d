"""An advisor's opinion: asked about a cycle during the promotion council's evaluation,
by a date; answered, or withdrawn. Its spec (`spec.py`), its store (`store.py`) and what
the calendar makes happen to it (`clock.py`)."""

from workflows.opinion.spec import OPINION

__all__ = ["OPINION"]
