"""One error base class that carries its HTTP status, so expected outcomes are never 500s."""

from __future__ import annotations


class BanticoError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(BanticoError):
    status_code = 404
    code = "not_found"


class Unauthorized(BanticoError):
    status_code = 401
    code = "unauthorized"


class Invalid(BanticoError):
    status_code = 422
    code = "invalid"


class Conflict(BanticoError):
    status_code = 409
    code = "conflict"
