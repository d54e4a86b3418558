"""Prefixed random ids, and the ids the loader makes in the browser."""

from __future__ import annotations

from bantico.kit.ids import ALPHABET, is_client_id, new_id, random_string


def test_ids_are_prefixed_url_safe_and_do_not_repeat() -> None:
    made = {new_id("lnk") for _ in range(2000)}
    assert len(made) == 2000
    for made_id in made:
        prefix, _, rest = made_id.partition("_")
        assert prefix == "lnk" and len(rest) == 16 and set(rest) <= set(ALPHABET)
    assert len(random_string(40)) == 40 and len(new_id("clk", 24)) == 28


def test_client_ids_are_short_url_safe_strings() -> None:
    for good in ("v_abcdefgh", "A1b2C3d4", "x" * 64, "s-123_456"):
        assert is_client_id(good), good
    for bad in ("short", "x" * 65, "has space1", "semi;colon1", "ünïcødé12", "line\nbreak1", ""):
        assert not is_client_id(bad), bad
