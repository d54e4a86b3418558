"""Searching text columns for what a person typed: anywhere, any case, no wildcards."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table, insert, select
from sqlalchemy.engine import Engine

from bantico.kit.search import contains, like_pattern

NOTES = Table("kit_search_notes", MetaData(), Column("text", String(100)))


def test_typed_wildcards_are_themselves() -> None:
    assert like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"


def test_contains_matches_anywhere_in_any_case_and_only_literally(engine: Engine) -> None:
    rows = ["Spring SALE", "50% off", "50x off", "a_b", "axb", "back\\slash"]
    NOTES.create(engine)
    try:
        with engine.begin() as connection:
            connection.execute(insert(NOTES), [{"text": row} for row in rows])

            def found(text: str) -> list[str]:
                query = select(NOTES.c.text).where(contains(NOTES.c.text, text))
                return sorted(connection.execute(query).scalars())

            assert found("sale") == ["Spring SALE"]
            assert found("50%") == ["50% off"]  # not "50x off"
            assert found("a_b") == ["a_b"]  # not "axb"
            assert found("k\\s") == ["back\\slash"]
            assert found("nothing like it") == []
    finally:
        NOTES.drop(engine)
