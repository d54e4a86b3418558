"""The only module that imports the official `dodopayments` SDK.

Pages are requested one by one with explicit 0-based page numbers: the SDK's auto-paginator
starts again at page 2 and skips page 1 (docs/dodo.md §4). Every request goes through the key's
shared rate limiter when one is given (bantico/integrations/rate_limit.py), which waits out 429s
itself; the SDK's own retries are for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

import dodopayments
from dodopayments import DefaultHttpxClient, DodoPayments
from dodopayments.types import WebhookEventType

from bantico.integrations.provider import Kind, Probe
from bantico.integrations.rate_limit import LimitedTransport, RateLimiter
from bantico.kit.errors import BanticoError

PAGE_SIZE = 100
# Every event that creates or moves money (docs/dodo.md §2). Taken from the SDK's own list, so a
# new `refund.*` or `dispute.*` type is subscribed to with the SDK upgrade that brings it.
MONEY_EVENT_PREFIXES = ("payment.", "refund.", "dispute.", "subscription.")
WEBHOOK_EVENT_TYPES = sorted(
    t for t in get_args(WebhookEventType) if t.startswith(MONEY_EVENT_PREFIXES)
)
KINDS: tuple[Kind, ...] = ("payments", "refunds", "disputes")


class DodoRejected(BanticoError):
    """Dodo refused the key for this request (401/403): invalid, revoked, or read-only."""

    status_code = 422
    code = "dodo_rejected"


class DodoUnavailable(BanticoError):
    """Dodo could not answer now (5xx, 429 after waiting, timeout): try again later."""

    status_code = 503
    code = "dodo_unavailable"


class DodoFailed(BanticoError):
    """Dodo answered with an error that retrying will not fix."""

    status_code = 502
    code = "dodo_failed"

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    url: str
    filter_types: tuple[str, ...]
    disabled: bool


class DodoClient:
    def __init__(
        self,
        api_key: str,
        base_url: str,
        *,
        timeout: float = 30.0,
        max_retries: int = 2,
        limiter: RateLimiter | None = None,
        throttle_wait: float = 900.0,
    ) -> None:
        """`throttle_wait`: how long in all a request may wait out Dodo's 429s."""
        http_client = None
        if limiter is not None:
            transport = LimitedTransport(limiter, max_wait=throttle_wait)
            http_client = DefaultHttpxClient(transport=transport, timeout=timeout)
        self.limiter = limiter
        self._sdk = DodoPayments(
            bearer_token=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
        )

    def close(self) -> None:
        self._sdk.close()

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (dodopayments.AuthenticationError, dodopayments.PermissionDeniedError) as error:
            raise DodoRejected(f"Dodo refused to {what} ({error.status_code})") from None
        except dodopayments.RateLimitError:
            raise DodoUnavailable(f"Dodo kept rate-limiting {what}") from None
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

    def webhooks(self) -> list[WebhookEndpoint]:
        page = self._call("list webhooks", self._sdk.webhooks.list, limit=100)
        return [_endpoint(e) for e in page.data]

    def webhook(self, endpoint_id: str) -> WebhookEndpoint | None:
        """The endpoint, or None when it is gone (deleted in Dodo's dashboard)."""
        try:
            return _endpoint(
                self._call("read the webhook endpoint", self._sdk.webhooks.retrieve, endpoint_id)
            )
        except DodoFailed as error:
            if error.status == 404:
                return None
            raise

    def create_webhook(self, url: str) -> WebhookEndpoint:
        created = self._call(
            "create a webhook endpoint",
            self._sdk.webhooks.create,
            url=url,
            description="Bantico attribution",
            filter_types=WEBHOOK_EVENT_TYPES,
        )
        return _endpoint(created)

    def update_webhook(self, endpoint_id: str, url: str) -> WebhookEndpoint:
        """Point the endpoint at `url` and subscribe it to every event Bantico uses."""
        updated = self._call(
            "update the webhook endpoint",
            self._sdk.webhooks.update,
            endpoint_id,
            url=url,
            filter_types=WEBHOOK_EVENT_TYPES,
        )
        return _endpoint(updated)

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

    def page(
        self, kind: Kind, page: int, *, since: datetime | None, until: datetime | None
    ) -> list[dict[str, Any]]:
        """One page of payments, refunds or disputes created in [since, until], both ends
        included (Dodo's lists filter by creation time only)."""
        kwargs: dict[str, Any] = {"page_number": page, "page_size": PAGE_SIZE}
        if since is not None:
            kwargs["created_at_gte"] = since
        if until is not None:
            kwargs["created_at_lte"] = until
        lister = getattr(self._sdk, kind).list
        result = self._call(f"list {kind}", lister, **kwargs)
        return [item.to_dict(mode="json") for item in result.items]

    def read(self, kind: Kind, object_id: str) -> dict[str, Any] | None:
        """One payment, refund or dispute in full, or None when Dodo has no such object (a
        dashboard "Send Example" message names made-up ids)."""
        try:
            found = self._call(
                f"read {kind[:-1]} {object_id}", getattr(self._sdk, kind).retrieve, object_id
            )
        except DodoFailed as error:
            if error.status == 404:
                return None
            raise
        return dict(found.to_dict(mode="json"))


def _endpoint(details: Any) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=details.id,
        url=details.url,
        filter_types=tuple(details.filter_types or ()),
        disabled=bool(details.disabled),
    )
