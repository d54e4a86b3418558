"""`GET /bantico.js`: the loader, cacheable, with an ETag and a pre-compressed copy."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request, Response

router = APIRouter(tags=["loader"])
LOADER_PATH = Path(__file__).parent / "static" / "bantico.js"


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str


@lru_cache(maxsize=1)
def loader_asset() -> Asset:
    body = LOADER_PATH.read_bytes()
    return Asset(
        body=body,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
        etag='"' + hashlib.sha256(body).hexdigest()[:20] + '"',
    )


@router.get("/bantico.js", include_in_schema=False)
def loader(request: Request) -> Response:
    asset = loader_asset()
    headers = {
        "ETag": asset.etag,
        "Cache-Control": "public, max-age=3600, stale-while-revalidate=86400",
        "Vary": "Accept-Encoding",
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    body = asset.body
    if "gzip" in request.headers.get("accept-encoding", ""):
        body, headers["Content-Encoding"] = asset.gzipped, "gzip"
    return Response(body, media_type="application/javascript; charset=utf-8", headers=headers)
