"""Reading attribution out of Dodo payment metadata (docs/product.md §2).

Keys are flat camelCase; the `metadata_` prefix that static payment links may keep and
snake_case are accepted too. Values may be strings, numbers or booleans and compare as trimmed
strings; empty strings mean absent.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from bantico.kit.schemas import CONTEXT_FIELDS


@dataclass(frozen=True)
class Fields:
    link_id: str | None = None
    campaign_id: str | None = None
    source: str | None = None
    medium: str | None = None
    content: str | None = None
    lead_id: str | None = None
    visitor_id: str | None = None
    session_id: str | None = None

    def context(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in CONTEXT_FIELDS}

    def has_context(self) -> bool:
        return any(self.context().values())


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def as_text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = str(value)
    return text.strip() or None


def read(metadata: dict[str, Any] | None) -> Fields:
    metadata = metadata or {}
    found: dict[str, str | None] = {}
    for field in fields(Fields):
        name = field.name
        for key in (_camel(name), f"metadata_{_camel(name)}", name, f"metadata_{name}"):
            value = as_text(metadata.get(key))
            if value is not None:
                found[name] = value
                break
    return Fields(**found)
