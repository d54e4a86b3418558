"""The database layer: files created private."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import text

from bantico.db import make_engine, migrate


def test_a_new_sqlite_database_is_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "bantico.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate(engine)
        with engine.begin() as connection:  # a write, so the WAL files exist
            connection.execute(text("CREATE TABLE touched (id INTEGER)"))
            for made in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                assert stat.S_IMODE(made.stat().st_mode) == 0o600, made
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    finally:
        engine.dispose()


def test_an_existing_file_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    path.touch(mode=0o640)
    path.chmod(0o640)
    make_engine(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
