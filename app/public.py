"""Where published sites live on disk, and rendering one on first request: a publication
is frozen, so its site is rendered once from the stored snapshot and then only served."""

from __future__ import annotations

from pathlib import Path

from app.bootstrap import Pdca
from publishing import review
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


def review_dir(pdca: Pdca, version: int, *, code: str | None = None) -> Path:
    """A strategy's final review beside its years: `review/v1` in its folder."""
    root = public_root(pdca)
    if code is not None and code != pdca.tenants.default_code:
        root = root / code
    return root / "review" / f"v{version}"


def ensure_review_site(pdca: Pdca, package: dict) -> Path:  # type: ignore[type-arg]
    target = review_dir(pdca, package["version"], code=package["strategy"]["code"])
    if not (target / "index.html").exists():
        review.write_site(package, target)
    return target
