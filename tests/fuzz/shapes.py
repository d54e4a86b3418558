"""Hypothesis strategies shared by the fuzz suites: JSON-ish values with the inputs that broke
Bantico before (NaN and Infinity literals, numbers too large for a float or a BIGINT, NUL
characters, unpaired surrogates, deep nesting, long strings, wrong types), serialised as the
raw bytes a client could send; and the settings every property test runs with."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import Phase, settings
from hypothesis import strategies as st


def fuzz_settings(max_examples: int) -> settings:
    """Deterministic (derandomized), no example database written into the repository, no
    deadline (the request budget of tests/fuzz/budget.py bounds each call instead), and no
    shrinking: a failure is reported as found, at once, rather than after minutes of
    requests."""
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=False,
        phases=[Phase.explicit, Phase.generate],
    )


# Stands for a raw literal that `json.dumps` cannot write; `encoded` puts the literal in its place.
RAW = "\ue000raw\ue000"
RAW_LITERALS = [
    "NaN",
    "-Infinity",
    "1e400",
    "-1e999",
    "9" * 40,
    "1" * 5000,
    "0." + "0" * 400 + "1",
    '"\\ud800"',
    '"a\\u0000b"',
    "[" * 29 + "]" * 29,  # at the nesting limit or past it, by where it lands
    "[" * 40 + "]" * 40,
]

# Text from every plane, with characters that broke storage before made likely (a NUL
# character, refused anywhere in a body, comes rarely so that most bodies go further).
TRICKY_CHARACTERS = ["\ud800", "\udfff", "\u202e", "\U0001f600", "é", "'", '"', "\\"]


def mostly(usual: st.SearchStrategy[Any], other: st.SearchStrategy[Any], odds: int = 3) -> Any:
    """`usual` `odds` times in `odds + 1`, else `other` (`st.one_of` picks its distinct
    strategies evenly, however often one is listed)."""
    return st.sampled_from([True] * odds + [False]).flatmap(lambda pick: usual if pick else other)


# Joined from a list: `st.text()` never holds a surrogate, whatever its alphabet.
ANY_TEXT = st.lists(
    mostly(st.characters(), st.sampled_from(TRICKY_CHARACTERS), odds=2), max_size=20
).map("".join)
NUL_TEXT = st.sampled_from(["\x00", "a\x00b"])
# 190 to 3,000 characters, often just under or over the 200 and 2,048 of text columns, made
# of a short repeated piece (a choice per character would make each example slow to generate).
LONG_TEXT = st.builds(
    lambda piece, length: (piece * length)[:length],
    st.text(st.sampled_from("ab/?=&%é"), min_size=1, max_size=6),
    st.one_of(st.sampled_from([200, 201, 2048, 2049, 3000]), st.integers(190, 3000)),
)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**63 - 1, 2**63, 2**64, 10**30]),
    # NaN and Infinity, now and then: literals that standard JSON does not allow
    mostly(st.floats(allow_nan=False, allow_infinity=False), st.floats(), odds=9),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), NUMBERS, mostly(ANY_TEXT, NUL_TEXT, odds=9), LONG_TEXT
)


def _json(scalars: st.SearchStrategy[Any], keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)
        ),
        max_leaves=12,
    )


# Strategies are built once: building them while drawing is slow.
# Any JSON value, NaN, NUL characters and unpaired surrogates included: refused wherever it
# lands in a body.
JSON_VALUES = _json(SCALARS, ANY_TEXT)
# A JSON value that standard JSON allows and a database can store, of any type and size: it
# goes past the parser, to the validation and the storage.
CLEAN_TEXT = st.text(st.characters(exclude_characters="\x00"), max_size=20)
CLEAN_VALUES = _json(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        CLEAN_TEXT,
        LONG_TEXT,
    ),
    CLEAN_TEXT,
)
# What makes a whole body refused: a raw literal (NaN, 1e400, too deep…) or any JSON value.
POISON = st.one_of(st.just(RAW), JSON_VALUES)
RARELY = st.sampled_from([False] * 9 + [True])  # True one time in ten


def either(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's value: mostly a plausible one, otherwise a clean value of any type."""
    return mostly(plausible, CLEAN_VALUES)


@st.composite
def encoded(draw: st.DrawFn, value: Any) -> bytes:
    """`value` as JSON bytes (NaN and Infinity as Python writes them), with a raw literal in
    place of `RAW`, and sometimes cut short."""
    text = json.dumps(value, allow_nan=True)
    text = text.replace(json.dumps(RAW), draw(st.sampled_from(RAW_LITERALS)))
    if len(text) > 2 and draw(RARELY):
        text = text[: draw(st.integers(1, len(text) - 1))]
    return text.encode()


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


# Bodies that are not an object of fields at all.
ODD_BODIES = st.one_of(
    st.sampled_from([b"", b"null", b"[]", b'"text"', b"1", b"\xff\xfe{", b"{}", b"{,}"]),
    st.integers(31, 34).map(lambda d: nested(d).encode()),
    st.sampled_from([1000, 20_000]).map(lambda d: nested(d).encode()),
    st.binary(max_size=200),
)
