"""Where published sites live on disk, and rendering one on first request: a publication
is frozen, so its site is rendered once from the stored snapshot and then only served."""

from __future__ import annotations

from pathlib import Path

from app.bootstrap import Pdca
from publishing.site import write_site


def public_root(pdca: Pdca) -> Path:
    return Path(pdca.settings.web.public_dir)


def site_dir(pdca: Pdca, fy: int, version: int, *, code: str | None = None) -> Path:
    """The first strategy's sites at the top of `[web] public_dir`; another's in a folder
    named by its code."""
    root = public_root(pdca)
    if code is not None and code != pdca.tenants.default_code:
        root = root / code
    return root / str(fy) / f"v{version}"


def ensure_site(pdca: Pdca, publication: dict) -> Path:  # type: ignore[type-arg]
    code = publication.get("strategy", {}).get("code")
    target = site_dir(pdca, publication["fy"], publication["version"], code=code)
    if not (target / "index.html").exists():
        write_site(publication, target)
    return target
