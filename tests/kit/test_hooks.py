"""The hook registry (bantico/kit/hooks.py): a hook nobody connected fails loudly, connecting is
idempotent, and the wiring connects every hook a package declares."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import bantico
from bantico.kit.hooks import Hook, HookNotConnected
from bantico.wiring import connect_hooks


def test_a_hook_without_a_handler_raises_instead_of_doing_nothing() -> None:
    hook: Hook[[int]] = Hook("test.nothing")
    with pytest.raises(HookNotConnected, match="connect_hooks"):
        hook(1)


def test_handlers_run_in_order_once_each() -> None:
    hook: Hook[[list[str]]] = Hook("test.order")
    first, second = (lambda seen: seen.append("a")), (lambda seen: seen.append("b"))
    hook.connect(first)
    hook.connect(second)
    hook.connect(first)
    seen: list[str] = []
    hook(seen)
    assert seen == ["a", "b"]


def declared_hooks() -> dict[str, Hook]:  # type: ignore[type-arg]
    found = {}
    for module in pkgutil.walk_packages(bantico.__path__, "bantico."):
        if module.name.endswith(".hooks") and module.name != "bantico.kit.hooks":
            for name, value in vars(importlib.import_module(module.name)).items():
                if isinstance(value, Hook):
                    found[f"{module.name}.{name}"] = value
    return found


def test_the_wiring_connects_every_declared_hook() -> None:
    connect_hooks()
    hooks = declared_hooks()
    assert len(hooks) >= 5
    assert [name for name, hook in hooks.items() if not hook._handlers] == []
