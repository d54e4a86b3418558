"""Form parsing and validation with errors in plain words, keyed by field name, so templates
can show each one next to its field (see the `field` macro in templates/macros.html)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends

from bantico.dashboard.security import read_form
from bantico.projects.service import PRICING_PATH

FormData = Annotated[dict[str, str], Depends(read_form)]


@dataclass
class Checked:
    """What the user typed (to show again), the problems found, and the clean values."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    clean: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def project_name(value: str) -> str | None:
    value = value.strip()
    if not value:
        return "Give the project a name."
    if len(value) > 200:
        return "Use at most 200 characters."
    return None


def check_project_settings(form: dict[str, str]) -> Checked:
    values = {
        "name": form.get("name", "").strip(),
        "pricing_path": form.get("pricing_path", "").strip(),
        "attribution_window_days": form.get("attribution_window_days", "").strip(),
        "gpc": form.get("gpc", ""),
    }
    checked = Checked(values)
    problem = project_name(values["name"])
    if problem:
        checked.errors["name"] = problem
    if not PRICING_PATH.match(values["pricing_path"]):
        checked.errors["pricing_path"] = (
            "Enter a path on your site that starts with /, like /pricing (no spaces, no ? or #)."
        )
    days = values["attribution_window_days"]
    if not days.isdigit() or not 1 <= int(days) <= 365:
        checked.errors["attribution_window_days"] = "Enter a whole number of days from 1 to 365."
    if values["gpc"] not in ("honour", "ignore"):
        checked.errors["gpc"] = "Choose whether to honour Global Privacy Control."
    if checked.ok:
        checked.clean = {
            "name": values["name"],
            "pricing_path": values["pricing_path"],
            "attribution_window_days": int(days),
            "honour_gpc": values["gpc"] == "honour",
        }
    return checked
