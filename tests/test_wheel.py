"""Bantico's wheel ships no emulator: no emulator module, no test keys, no fault injection. The
emulators are their own distribution (packages/bantico-emulators). Building takes a few seconds:
pip builds from a copy of the sources, offline, with the venv's setuptools."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from bantico_emulators.dodo import state
from tests.conftest import ROOT

# Strings that only the emulator has: its keys and ids, its fault injection, its control API.
EMULATOR_ONLY = (
    state.TEST_KEY,
    state.LIVE_KEY,
    state.TEST_READ_ONLY_KEY,
    state.LIVE_READ_ONLY_KEY,
    state.INVALID_KEY,
    state.BUSINESS_ID,
    state.ONE_TIME_PRODUCT_ID,
    state.MONTHLY_PRODUCT_ID,
    "emu_test_",
    "emu_live_",
    "class Fault",
    "inject_fault",
    "faults.inject",
    "/_emulator",
)


def build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "bantico", source / "bantico", ignore=shutil.ignore_patterns("__pycache__")
    )
    out = tmp_path / "dist"
    offline = ["--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", *offline, "-w", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (wheel,) = out.glob("bantico-*.whl")
    return wheel


def test_the_wheel_has_no_emulator_no_test_keys_and_no_fault_injection(tmp_path: Path) -> None:
    with zipfile.ZipFile(build_wheel(tmp_path)) as wheel:
        names = wheel.namelist()
        assert "bantico/cli.py" in names and "bantico/demo/run.py" in names
        assert "bantico/dashboard/static/dashboard.js" in names  # the package data is there
        tops = {name.split("/")[0] for name in names}
        assert {top for top in tops if not top.endswith(".dist-info")} == {"bantico"}
        assert [name for name in names if "emulator" in name] == []
        found = sorted(
            f"{name}: {needle}"
            for name in names
            for text in [wheel.read(name).decode("utf-8", "replace")]
            for needle in EMULATOR_ONLY
            if needle in text
        )
    assert found == []


def test_the_emulators_are_a_distribution_of_their_own() -> None:
    ours = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert ours["tool"]["setuptools"]["packages"]["find"]["include"] == ["bantico", "bantico.*"]
    assert not any("emulator" in data for data in ours["tool"]["setuptools"]["package-data"])
    theirs = tomllib.loads((ROOT / "packages/bantico-emulators/pyproject.toml").read_text())
    assert theirs["project"]["name"] == "bantico-emulators"
    requires = " ".join(theirs["project"]["dependencies"])
    assert "bantico" not in requires.replace("bantico-emulators", "")
