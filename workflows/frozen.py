"""What a frozen document (a year's publication, a final review's package) is hashed as:
its canonical JSON, so that the same content always has the same hash."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical(content: dict[str, Any]) -> str:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(content).encode()).hexdigest()


__all__ = ["canonical", "content_hash"]
