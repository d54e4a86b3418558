"""Dependencies point down. Each domain package may import the shared modules at the top of
`bantico/`, every package's `models` (the tables are one shared layer), its own modules, and
the packages below it; never one above. A lower layer that needs a higher one to react
announces it through a hook (bantico/kit/hooks.py). `routes` and `commands` modules are the
interface: like the dashboard, the CLI and the app, they may use any layer."""

from __future__ import annotations

import ast
from pathlib import Path

BANTICO = Path(__file__).resolve().parents[2] / "bantico"

# Lowest first: the shared base, then the domain packages.
SHARED = ["config", "db", "kit", "ingest"]
LAYERS = [
    "projects",
    "accounts",
    "links",
    "tracking",
    "payments",
    "integrations",
    "attribution",
    "reports",
    "diagnostics",
]
INTERFACE = {"dashboard", "demo", "app", "cli", "wiring", "deps", "terminal", "__main__", "models"}
INTERFACE_MODULES = {"routes", "commands"}
# Bantico's own emulator of Dodo Payments: it must not lean on the code it checks.
STANDALONE = {"dodo_emulator"}


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "bantico" or name.startswith("bantico.")}


def allowed(importer: tuple[str, ...], imported: str) -> bool:
    parts = imported.split(".")[1:]
    if not parts:
        return True
    package = parts[0]
    own = importer[0]
    if own in STANDALONE:
        return package == own
    if package in STANDALONE:
        return own in INTERFACE
    if own in SHARED:
        if package in SHARED:
            return SHARED.index(package) <= SHARED.index(own)
        return package in LAYERS and len(parts) > 1 and parts[1] == "models"
    if package not in LAYERS and package not in INTERFACE and package not in STANDALONE:
        return True  # the shared base, or a name ast can't tell
    if own in INTERFACE or importer[-1] in INTERFACE_MODULES:
        return True
    if package == own or (len(parts) > 1 and parts[1] == "models"):
        return True
    if own not in LAYERS:  # a shared module: only other shared modules and tables
        return False
    return package in LAYERS and LAYERS.index(package) < LAYERS.index(own)


def module_parts(path: Path) -> tuple[str, ...]:
    parts = path.relative_to(BANTICO).with_suffix("").parts
    return parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts


def test_no_module_imports_a_layer_above_it() -> None:
    upward = []
    for path in sorted(BANTICO.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        importer = module_parts(path)
        for imported in sorted(imports_of(path)):
            if not allowed(importer, imported):
                upward.append(f"bantico/{'/'.join(importer)} imports {imported}")
    assert upward == []


def test_the_rule_catches_an_upward_import() -> None:
    assert not allowed(("tracking", "service"), "bantico.reports.rollup")
    assert not allowed(("payments", "service"), "bantico.attribution.service")
    assert not allowed(("ingest", "group_commit"), "bantico.links.redirect")
    assert not allowed(("kit", "errors"), "bantico.ingest.fastpath")
    assert not allowed(("kit", "hooks"), "bantico.deps")
    assert allowed(("ingest", "fastpath"), "bantico.kit.body_size")
    assert allowed(("kit", "leases"), "bantico.db")
    assert allowed(("payments", "service"), "bantico.attribution.models")
    assert allowed(("payments", "routes"), "bantico.reports.payments")
    assert allowed(("reports", "present"), "bantico.links.service")
    assert not allowed(("dodo_emulator", "app"), "bantico.payments.models")
