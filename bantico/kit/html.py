"""HTML pages, one way: a Jinja2 environment per package of templates, escaping everything by
default (the dashboard's pages, a missing link's page)."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape


def templates(package: str, folder: str = "templates") -> Environment:
    """The templates in `package`'s `folder`, autoescaped, with block whitespace trimmed."""
    return Environment(
        loader=PackageLoader(package, folder),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
