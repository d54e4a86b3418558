"""Dependencies point down. Each domain package may import the shared modules at the top of
`bantico/`, every package's `models` (the tables are one shared layer), its own modules, and
the packages below it; never one above. A lower layer that needs a higher one to react
announces it through a hook (bantico/kit/hooks.py). `routes` and `commands` modules are the
interface: like the dashboard, the CLI and the app, they may use any layer.

The emulators (packages/bantico-emulators) stand alone: they never import `bantico`, and only the
demo imports them (lazily: `bantico` must run without them installed)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BANTICO = ROOT / "bantico"
EMULATORS = ROOT / "packages" / "bantico-emulators" / "bantico_emulators"

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
# The only package that may use the emulators.
USES_EMULATORS = {"demo"}


def imports_of(path: Path, top: str = "bantico") -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == top or name.startswith(f"{top}.")}


def allowed(importer: tuple[str, ...], imported: str) -> bool:
    parts = imported.split(".")[1:]
    if not parts:
        return True
    package = parts[0]
    own = importer[0]
    if own in SHARED:
        if package in SHARED:
            return SHARED.index(package) <= SHARED.index(own)
        return package in LAYERS and len(parts) > 1 and parts[1] == "models"
    if package not in LAYERS and package not in INTERFACE:
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


def test_the_emulators_import_nothing_of_bantico() -> None:
    modules = sorted(EMULATORS.rglob("*.py"))
    assert len(modules) > 20  # the Dodo emulator is there
    leaning = [
        f"{path.relative_to(EMULATORS.parent)} imports {imported}"
        for path in modules
        for imported in sorted(imports_of(path))
    ]
    assert leaning == []


def test_only_the_demo_imports_the_emulators() -> None:
    users = {
        "/".join(module_parts(path))
        for path in BANTICO.rglob("*.py")
        if imports_of(path, "bantico_emulators")
    }
    assert users and {user.split("/")[0] for user in users} <= USES_EMULATORS
