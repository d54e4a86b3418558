"""Webhook delivery as Dodo (through Svix) does it: Standard Webhooks signatures, a 15 s timeout,
retries on Dodo's schedule, one stable `webhook-id` per message, and a log of every attempt."""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

from bantico_emulators.dodo.clock import Clock
from bantico_emulators.dodo.events import Event
from bantico_emulators.dodo.ids import message_id
from bantico_emulators.dodo.options import EmulatorOptions
from bantico_emulators.dodo.records import WebhookEndpoint

log = logging.getLogger("bantico_emulators.dodo")

USER_AGENT = "Svix-Webhooks/rolling"  # what live deliveries carry (docs/dodo.md §2)
RESERVED_HEADERS = frozenset(
    {
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "content-type",
        "user-agent",
        "content-length",
        "host",
    }
)


def sign(secrets: list[str], msg_id: str, sent_at: datetime, body: str) -> str:
    """One `v1,<base64>` entry per live secret, space-separated, as during a rotation."""
    return " ".join(Webhook(secret).sign(msg_id, sent_at, body) for secret in secrets)


@dataclass(slots=True, kw_only=True)
class Message:
    message_id: str
    endpoint: WebhookEndpoint
    event: Event
    attempts: int = 0
    automatic_attempts: int = 0
    status: str = "pending"  # pending | delivered | failed | cancelled


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    message_id: str
    endpoint_id: str
    url: str
    event_type: str
    number: int
    sent_at: datetime
    status_code: int | None
    error: str | None
    headers: dict[str, str]
    body: str
    manual: bool

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(order=True, slots=True)
class _Job:
    due: float
    seq: int
    message: Message = field(compare=False)
    manual: bool = field(compare=False)


class Dispatcher:
    """A scheduler thread hands due attempts to a small pool, so one slow receiver (up to the
    15 s timeout) does not hold up every other endpoint."""

    def __init__(self, clock: Clock, options: EmulatorOptions, workers: int = 8) -> None:
        self._clock = clock
        self._options = options
        self._workers = workers
        self._cond = threading.Condition()
        self._heap: list[_Job] = []
        self._seq = itertools.count()
        self._pending = 0
        self._messages: dict[str, Message] = {}
        self._attempts: list[Attempt] = []
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._http: httpx.Client | None = None
        self._closed = False

    def publish(self, event: Event, endpoints: list[WebhookEndpoint]) -> list[Message]:
        messages = [Message(message_id=message_id(), endpoint=e, event=event) for e in endpoints]
        with self._cond:
            for message in messages:
                self._messages[message.message_id] = message
                self._schedule(message, 0.0, manual=False)
        return messages

    def redeliver(self, msg_id: str) -> Message:
        """One more attempt with the same `webhook-id`, like "Resend" in the dashboard; it is
        not retried if it fails."""
        with self._cond:
            message = self._messages[msg_id]
            self._schedule(message, 0.0, manual=True)
            return message

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once nothing is scheduled or in flight (retries included)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout)

    def messages(self, event_type: str | None = None) -> list[Message]:
        with self._cond:
            return [m for m in self._messages.values() if event_type in (None, m.event.type)]

    def attempts(
        self,
        *,
        message_id: str | None = None,
        endpoint_id: str | None = None,
        event_type: str | None = None,
    ) -> list[Attempt]:
        with self._cond:
            return [
                a
                for a in self._attempts
                if message_id in (None, a.message_id)
                and endpoint_id in (None, a.endpoint_id)
                and event_type in (None, a.event_type)
            ]

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify_all()
        if self._thread:
            self._thread.join()
        if self._pool:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._http:
            self._http.close()

    def _schedule(self, message: Message, delay: float, *, manual: bool) -> None:
        if self._closed:
            return
        if self._thread is None:
            self._http = httpx.Client(trust_env=False, follow_redirects=False)
            self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="dodo-emu-send")
            self._thread = threading.Thread(target=self._run, name="dodo-emu-deliver", daemon=True)
            self._thread.start()
        job = _Job(time.monotonic() + delay, next(self._seq), message, manual)
        heapq.heappush(self._heap, job)
        self._pending += 1
        self._cond.notify_all()

    def _run(self) -> None:
        assert self._pool is not None
        while True:
            with self._cond:
                while not self._closed and not self._due():
                    wait = self._heap[0].due - time.monotonic() if self._heap else None
                    self._cond.wait(wait)
                if self._closed:
                    return
                job = heapq.heappop(self._heap)
            self._pool.submit(self._deliver, job)

    def _due(self) -> bool:
        return bool(self._heap) and self._heap[0].due <= time.monotonic()

    def _deliver(self, job: _Job) -> None:
        try:
            self._attempt(job)
        except Exception:
            # A bug in rendering must not wedge `wait_idle`; the message is marked and logged.
            log.exception("bantico_emulators.dodo.delivery.crashed")
            job.message.status = "failed"
        finally:
            with self._cond:
                self._pending -= 1
                self._cond.notify_all()

    def _attempt(self, job: _Job) -> None:
        message, endpoint = job.message, job.message.endpoint
        if endpoint.deleted or endpoint.disabled:
            # Deleting or disabling an endpoint stops delivery at once (Dodo webhooks doc).
            message.status = "cancelled"
            return
        body = json.dumps(
            message.event.envelope(endpoint.field_set or self._options.field_set),
            separators=(",", ":"),
        )
        sent_at = datetime.now(UTC)
        headers = {k: v for k, v in endpoint.headers.items() if k.lower() not in RESERVED_HEADERS}
        headers |= {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": message.message_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": sign(
                endpoint.signing_secrets(self._clock.now()), message.message_id, sent_at, body
            ),
        }
        status_code, error = self._post(endpoint.url, body, headers)
        with self._cond:
            message.attempts += 1
            message.automatic_attempts += 0 if job.manual else 1
            self._attempts.append(
                Attempt(
                    message_id=message.message_id,
                    endpoint_id=endpoint.id,
                    url=endpoint.url,
                    event_type=message.event.type,
                    number=message.attempts,
                    sent_at=sent_at,
                    status_code=status_code,
                    error=error,
                    headers=headers,
                    body=body,
                    manual=job.manual,
                )
            )
            if error is None:
                message.status = "delivered"
            elif not job.manual:
                self._retry_or_fail(message)

    def _retry_or_fail(self, message: Message) -> None:
        schedule = self._options.retry_schedule
        retries_done = message.automatic_attempts - 1
        if retries_done < len(schedule):
            self._schedule(message, schedule[retries_done] * self._options.time_scale, manual=False)
        else:
            message.status = "failed"

    def _post(self, url: str, body: str, headers: dict[str, str]) -> tuple[int | None, str | None]:
        assert self._http is not None
        sender = self._options.sender
        try:
            if sender is not None:
                status = sender(url, body, headers)
            else:
                status = self._http.post(
                    url,
                    content=body.encode(),
                    headers=headers,
                    timeout=self._options.delivery_timeout,
                ).status_code
        except Exception as exc:  # any failure to deliver is a failed attempt, as at Svix
            return None, f"{type(exc).__name__}: {exc}"
        return status, None if 200 <= status < 300 else f"HTTP {status}"
