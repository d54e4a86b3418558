"""Property tests of the public `GET`s anyone may send: `GET|HEAD /l/{key}` with any key
(the seeded links' keys among them), any query string, and any `User-Agent`
and `Referer` (up to 3,000 characters); and `GET /bantico.js` with any query string and any
`If-None-Match` and `Accept-Encoding`. Every answer is a redirect, a 304, a 2xx or a 4xx, never
a 5xx, each within the request budget."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import assume, given, note
from hypothesis import strategies as st

from bantico.tracking.loader import loader_asset
from tests.fuzz.budget import within_budget
from tests.fuzz.conftest import Seed
from tests.fuzz.shapes import ANY_TEXT, LONG_TEXT, fuzz_settings

LINK_EXAMPLES = 100
LOADER_EXAMPLES = 30

# Header values as a server passes them on: printable Latin-1 bytes, no line breaks.
HEADER_VALUES = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")),
    LONG_TEXT,
).map(lambda text: text.encode("latin-1")[:3000])


def _quoted(text: str, safe: str = "") -> str:
    """Percent-encoded UTF-8; an unpaired surrogate becomes bytes that are not UTF-8."""
    return quote(text.encode("utf-8", "surrogatepass"), safe=safe)


QUERY = st.one_of(
    st.lists(st.tuples(ANY_TEXT, ANY_TEXT), max_size=4).map(
        lambda pairs: "&".join(f"{_quoted(name)}={_quoted(value)}" for name, value in pairs)
    ),
    st.sampled_from(["utm_source=x&utm_source=y", "%ZZ", "a=%00", "&&==", "bantico_click=1"]),
)


def _paths(keys: list[str]) -> st.SearchStrategy[str]:
    """A key: a seeded one, or any text percent-encoded (slashes kept or not)."""
    anything = st.builds(_quoted, ANY_TEXT, st.sampled_from(["", "/"]))
    return st.one_of(st.sampled_from(keys), anything, st.sampled_from(["", "%2e%2e", "%2F"]))


def test_short_links_answer_any_request(seeded: Seed) -> None:
    client = seeded.project.client

    @fuzz_settings(LINK_EXAMPLES)
    @given(
        key=_paths(seeded.link_keys),
        query=QUERY,
        method=st.sampled_from(["GET", "HEAD"]),
        user_agent=HEADER_VALUES,
        referrer=st.one_of(st.none(), HEADER_VALUES),
    )
    def follow(
        key: str, query: str, method: str, user_agent: bytes, referrer: bytes | None
    ) -> None:
        headers = {"user-agent": user_agent, **({"referer": referrer} if referrer else {})}
        request = client.build_request(method, f"/l/{key}?{query}", headers=headers)
        note(f"{method} {request.url}")
        assume(request.url.path.startswith("/l/"))  # not a `..` that leaves /l/
        response = within_budget(
            f"{method} /l/{{key}}", lambda: client.send(request, follow_redirects=False)
        )
        assert response.status_code in (302, 400, 404), response.text
        if response.status_code == 302:
            assert response.headers["location"].startswith("https://shop.example/")

    follow()


def test_the_loader_answers_any_request(seeded: Seed) -> None:
    client, asset = seeded.project.client, loader_asset()

    @fuzz_settings(LOADER_EXAMPLES)
    @given(
        query=QUERY,
        if_none_match=st.one_of(st.just(asset.etag.encode()), HEADER_VALUES),
        accept_encoding=st.one_of(st.sampled_from([b"gzip", b"br, gzip;q=0.5"]), HEADER_VALUES),
    )
    def load(query: str, if_none_match: bytes, accept_encoding: bytes) -> None:
        headers = {"if-none-match": if_none_match, "accept-encoding": accept_encoding}
        response = within_budget(
            "GET /bantico.js",
            lambda: client.get(f"/bantico.js?{query}", headers=headers),
        )
        assert response.status_code in (200, 304, 400), response.text  # 400: a NUL in the query
        if response.status_code == 200:
            assert response.content == asset.body  # decompressed by the client when gzipped

    load()
