"""GET /bantico.js: small, cacheable, revalidated with its ETag (no browser needed)."""

from __future__ import annotations

import gzip

from fastapi.testclient import TestClient

from bantico.tracking.loader import LOADER_PATH

MAX_GZIPPED = 2048


def test_loader_is_at_most_2kb_gzipped_with_etag_and_304(client: TestClient) -> None:
    response = client.get("/bantico.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) <= MAX_GZIPPED
    assert response.content == LOADER_PATH.read_bytes()  # httpx decoded the gzip body
    assert len(gzip.compress(LOADER_PATH.read_bytes(), compresslevel=9)) <= MAX_GZIPPED
    etag = response.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')

    again = client.get("/bantico.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag

    other = client.get("/bantico.js", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200
