"""Dashboard pages, one module per page group. Add a module's router to ROUTERS to serve it:
`bantico.dashboard.add_dashboard()` includes each with the CSRF check attached."""

from __future__ import annotations

from fastapi import APIRouter

from bantico.dashboard.routes import (
    account,
    dodo,
    home,
    install,
    links,
    live,
    payments,
    projects,
    reports,
    settings,
    setup,
    troubleshooting,
)

ROUTERS: tuple[APIRouter, ...] = (
    home.router,
    setup.router,
    account.router,
    projects.router,
    install.router,
    settings.router,
    dodo.router,
    links.router,
    payments.router,
    reports.router,
    live.router,
    troubleshooting.router,
)
