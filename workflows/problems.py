"""Bad input to an admin's form, by field: catalogue keys with their values, said in the
person's language beside the field that holds the problem."""

from __future__ import annotations

from typing import Any

Problems = dict[str, tuple[str, dict[str, Any]]]
"""form field -> (catalogue key, values)"""


class FieldProblems(Exception):
    def __init__(self, problems: Problems) -> None:
        super().__init__("; ".join(f"{k}: {v[0]}" for k, v in problems.items()))
        self.problems = problems


__all__ = ["FieldProblems", "Problems"]
