"""The only module that imports the official `dodopayments` SDK.

Pages are requested one by one with explicit 0-based page numbers: the SDK's auto-paginator
starts again at page 2 and skips page 1 (DODO.md §4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import dodopayments
from dodopayments import DodoPayments

from bantico.errors import BanticoError

PAGE_SIZE = 100
# What Bantico handles; everything else would only be acknowledged and kept.
WEBHOOK_EVENT_TYPES = [
    "payment.succeeded",
    "payment.failed",
    "refund.succeeded",
    "refund.failed",
    "dispute.opened",
    "dispute.won",
    "dispute.lost",
    "subscription.active",
    "subscription.renewed",
]


class DodoRejected(BanticoError):
    """Dodo refused the key for this request (401/403): invalid, revoked, or read-only."""

    status_code = 422
    code = "dodo_rejected"


class DodoUnavailable(BanticoError):
    """Dodo could not answer now (5xx, 429, timeout): try again later."""

    status_code = 503
    code = "dodo_unavailable"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DodoFailed(BanticoError):
    """Dodo answered with an error that retrying will not fix."""

    status_code = 502
    code = "dodo_failed"

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


Probe = Literal["accepted", "rejected", "unverified"]


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    secret: str


def _retry_after(error: dodopayments.APIStatusError) -> float | None:
    value = error.response.headers.get("retry-after")
    try:
        return float(value) if value else None
    except ValueError:
        return None


class DodoClient:
    def __init__(
        self, api_key: str, base_url: str, *, timeout: float = 30.0, max_retries: int = 2
    ) -> None:
        self._sdk = DodoPayments(
            bearer_token=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )

    def close(self) -> None:
        self._sdk.close()

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (dodopayments.AuthenticationError, dodopayments.PermissionDeniedError) as error:
            raise DodoRejected(f"Dodo refused to {what} ({error.status_code})") from None
        except dodopayments.RateLimitError as error:
            raise DodoUnavailable(
                f"Dodo rate-limited {what}", retry_after=_retry_after(error)
            ) from None
        except dodopayments.InternalServerError as error:
            raise DodoUnavailable(f"Dodo failed to {what} ({error.status_code})") from None
        except dodopayments.APIConnectionError as error:  # includes timeouts
            raise DodoUnavailable(f"could not reach Dodo to {what}: {error}") from None
        except dodopayments.APIStatusError as error:
            body = error.body if isinstance(error.body, dict) else {}
            detail = body.get("message") or error.message
            raise DodoFailed(
                f"Dodo answered {error.status_code} to {what}: {detail}", error.status_code
            ) from None

    def probe(self) -> Probe:
        """A cheap authenticated read. Only a definite 401/403 rejects the key."""
        try:
            self._call("list payments", self._sdk.payments.list, page_size=1, page_number=0)
        except DodoRejected:
            return "rejected"
        except (DodoUnavailable, DodoFailed):
            return "unverified"
        return "accepted"

    def ensure_webhook(self, url: str) -> WebhookEndpoint:
        """Reuse the endpoint already registered for `url`, or create it; then read its secret."""
        endpoint_id = None
        for endpoint in self._call("list webhooks", self._sdk.webhooks.list, limit=100).data:
            if endpoint.url == url:
                endpoint_id = endpoint.id
                break
        if endpoint_id is None:
            created = self._call(
                "create a webhook endpoint",
                self._sdk.webhooks.create,
                url=url,
                description="Bantico attribution",
                filter_types=WEBHOOK_EVENT_TYPES,
            )
            endpoint_id = created.id
        secret = self.webhook_secret(endpoint_id)
        return WebhookEndpoint(id=endpoint_id, secret=secret)

    def webhook_secret(self, endpoint_id: str) -> str:
        return str(
            self._call(
                "read the webhook secret", self._sdk.webhooks.retrieve_secret, endpoint_id
            ).secret
        )

    def delete_webhook(self, endpoint_id: str) -> None:
        try:
            self._call("delete the webhook endpoint", self._sdk.webhooks.delete, endpoint_id)
        except DodoFailed as error:
            if error.status != 404:
                raise

    def payments_page(
        self, page: int, *, since: datetime, until: datetime | None = None
    ) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "page_number": page,
            "page_size": PAGE_SIZE,
            "created_at_gte": since,
        }
        if until is not None:
            kwargs["created_at_lte"] = until
        result = self._call("list payments", self._sdk.payments.list, **kwargs)
        return [item.to_dict(mode="json") for item in result.items]

    def payment(self, payment_id: str) -> dict[str, Any]:
        found = self._call("read a payment", self._sdk.payments.retrieve, payment_id)
        return dict(found.to_dict(mode="json"))

    def refunds_page(self, page: int, *, since: datetime) -> list[dict[str, Any]]:
        result = self._call(
            "list refunds",
            self._sdk.refunds.list,
            page_number=page,
            page_size=PAGE_SIZE,
            created_at_gte=since,
        )
        return [item.to_dict(mode="json") for item in result.items]

    def disputes_page(self, page: int, *, since: datetime) -> list[dict[str, Any]]:
        result = self._call(
            "list disputes",
            self._sdk.disputes.list,
            page_number=page,
            page_size=PAGE_SIZE,
            created_at_gte=since,
        )
        return [item.to_dict(mode="json") for item in result.items]
