"""Dodo's error shape: `{"code": "...", "message": "..."}`, or sometimes no body at all."""

from __future__ import annotations


class DodoError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        has_body: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.has_body = has_body


def not_found(kind: str, record_id: str) -> DodoError:
    return DodoError(404, "NOT_FOUND", f"{kind} {record_id} not found")


def invalid(message: str, code: str = "INVALID_REQUEST") -> DodoError:
    return DodoError(422, code, message)


def unauthorized() -> DodoError:
    # A read-only key on a write, and a key on the wrong host, get 401 with no body
    # (docs/dodo.md §1).
    return DodoError(401, "UNAUTHORIZED", "", has_body=False)
