"""The web app as each of `pdca serve --workers N`'s worker processes builds it.

A worker is a fresh process (uvicorn spawns it): it reads the settings `pdca serve` had
resolved (the config file with its overrides, e.g. where links point) from the environment
as JSON, and builds its own engine. Everything the web keeps between requests (sessions,
sign-in links, CSRF, rate limits) is in the database, so any worker answers any request.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from app.bootstrap import Pdca
from app.config import Settings

SETTINGS_ENV = "PDCA_SERVE_SETTINGS"
STRATEGY_ENV = "PDCA_SERVE_STRATEGY"


def create() -> FastAPI:
    from app.web.main import create_app

    settings = Settings.model_validate_json(os.environ[SETTINGS_ENV])
    return create_app(Pdca(settings, create=False, strategy=os.environ.get(STRATEGY_ENV) or None))
