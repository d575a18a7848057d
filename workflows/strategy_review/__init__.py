"""The strategy's own process: a strategy is an instance of this workflow, from its first
fiscal year through the final review in its target year to the next strategy's adoption."""

from workflows.strategy_review.spec import STRATEGY_REVIEW

__all__ = ["STRATEGY_REVIEW"]
