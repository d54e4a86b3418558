"""Dodo's published rate limits (Tier 0: 40 a second, 240 a minute, per account and mode), the
`X-RateLimit-*` headers on every answer, and the tally of requests answered.

Most tests step a fake clock through the windows, so that no boundary falls mid-test; one runs
on the real clock with shrunken windows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import dodopayments
import httpx
import pytest
from dodopayments import DodoPayments

from bantico_emulators.dodo import (
    LIVE_KEY,
    TEST_KEY,
    TIER_0,
    EmulatorOptions,
    RateLimit,
    RunningEmulator,
    complete_checkout,
)
from bantico_emulators.dodo.ratelimit import TIER_1, TIER_2, RateLimiter
from tests.emulators.dodo.conftest import buy

# A multiple of 60: each test starts a quarter of a second into a fresh second and minute.
MINUTE_START = 1_000_020.0


class FakeTime:
    def __init__(self) -> None:
        self.now = MINUTE_START + 0.25

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def options() -> EmulatorOptions:
    return EmulatorOptions(time_scale=0.001, rate_limit=TIER_0)


@pytest.fixture
def clock(emu: RunningEmulator) -> FakeTime:
    fake = FakeTime()
    emu.state.limiter.clock = fake
    return fake


def sdk(emu: RunningEmulator, key: str = TEST_KEY, mode: str = "test") -> DodoPayments:
    return DodoPayments(bearer_token=key, base_url=f"{emu.base_url}/{mode}", max_retries=0)


def limits(response: httpx.Response) -> tuple[str, str, str]:
    h = response.headers
    return h["x-ratelimit-limit"], h["x-ratelimit-remaining"], h["x-ratelimit-reset"]


def fire(http: httpx.Client, count: int) -> list[httpx.Response]:
    return [http.get("/payments", params={"page_size": 1}) for _ in range(count)]


@pytest.fixture
def http(emu: RunningEmulator) -> Iterator[httpx.Client]:
    auth = {"authorization": f"Bearer {TEST_KEY}"}
    with httpx.Client(base_url=emu.test_url, headers=auth) as plain:
        yield plain


def test_tiers_are_dodos_published_numbers() -> None:
    assert EmulatorOptions().rate_limit == TIER_0 == RateLimit(40, 240)
    assert (TIER_1.per_second, TIER_1.per_minute) == (100, 1_000)
    assert (TIER_2.per_second, TIER_2.per_minute) == (500, 5_000)


def test_41st_request_in_a_second_is_refused_without_retry_after(
    emu: RunningEmulator, client: DodoPayments, clock: FakeTime
) -> None:
    for n in range(1, 41):
        answer = client.payments.with_raw_response.list(page_size=1).http_response
        # The headers count down; the second binds, resetting within the second.
        assert limits(answer) == ("240", str(40 - n), "1")
    with pytest.raises(dodopayments.RateLimitError) as refused:
        client.payments.list(page_size=1)
    response = refused.value.response
    assert response.status_code == 429 and "retry-after" not in response.headers
    assert limits(response) == ("240", "0", "1")
    assert refused.value.body == {"code": "TOO_MANY_REQUESTS", "message": "Rate limit exceeded"}

    clock.now += 1  # the next second: the minute still has 200 left, the second 40
    assert limits(client.payments.with_raw_response.list().http_response) == ("240", "39", "1")


def test_241st_request_in_a_minute_is_refused(
    emu: RunningEmulator, http: httpx.Client, clock: FakeTime
) -> None:
    for second in range(6):
        clock.now = MINUTE_START + second + 0.25
        answers = fire(http, 40)
        assert all(a.status_code == 200 for a in answers)
    # In the sixth second both windows had as many left; the minute, resetting later, binds.
    assert limits(answers[0]) == ("240", "39", "55")
    assert limits(answers[-1]) == ("240", "0", "55")
    clock.now = MINUTE_START + 6.25
    [refused] = fire(http, 1)
    assert refused.status_code == 429 and "retry-after" not in refused.headers
    assert limits(refused) == ("240", "0", "54")  # seconds until the minute is over

    clock.now = MINUTE_START + 60.5  # a new minute
    assert limits(fire(http, 1)[0]) == ("240", "39", "1")


def test_shrunken_windows_on_the_real_clock(emu: RunningEmulator, http: httpx.Client) -> None:
    window = 0.5
    emu.state.options.rate_limit = RateLimit(per_second=3, per_minute=1_000, second=window)
    time.sleep(window - time.time() % window)  # start at the top of a window
    answers = fire(http, 4)
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert limits(answers[-1]) == ("1000", "0", "1")  # under half a second, rounded up
    time.sleep(window - time.time() % window)
    again = fire(http, 1)[0]
    assert again.status_code == 200 and again.headers["x-ratelimit-remaining"] == "2"


def test_a_refused_request_uses_no_quota(
    emu: RunningEmulator, http: httpx.Client, clock: FakeTime
) -> None:
    emu.state.options.rate_limit = RateLimit(per_second=5, per_minute=8)
    assert [a.status_code for a in fire(http, 10)] == [200] * 5 + [429] * 5
    clock.now += 1
    answers = fire(http, 4)
    assert [a.status_code for a in answers] == [200, 200, 200, 429]  # 8 a minute, not 8 + 5
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert limits(answers[-1])[2] == "59"  # the minute binds now


def test_modes_and_businesses_are_metered_apart(emu: RunningEmulator, clock: FakeTime) -> None:
    emu.state.add_key("emu_test_other", mode="test", business_id="bus_other")
    with sdk(emu) as test, sdk(emu, LIVE_KEY, "live") as live, sdk(emu, "emu_test_other") as other:
        for _ in range(40):
            test.customers.list(page_size=1)
        with pytest.raises(dodopayments.RateLimitError):
            test.customers.list(page_size=1)
        answer = live.customers.with_raw_response.list(page_size=1).http_response
        assert limits(answer) == ("240", "39", "1")
        answer = other.customers.with_raw_response.list(page_size=1).http_response
        assert limits(answer) == ("240", "39", "1")


def test_errors_carry_the_headers_too(
    emu: RunningEmulator, http: httpx.Client, clock: FakeTime
) -> None:
    missing = http.get("/payments/pay_missing")
    assert missing.status_code == 404 and limits(missing) == ("240", "39", "1")
    invalid = http.get("/payments", params={"page_size": 1000})
    assert invalid.status_code == 422 and limits(invalid)[1] == "38"
    emu.state.faults.inject(503)
    outage = http.get("/payments")
    assert outage.status_code == 503 and limits(outage)[1] == "37"
    # A key this host does not know is not an account: no account quota, no headers.
    stranger = httpx.get(f"{emu.test_url}/payments", headers={"authorization": "Bearer nope"})
    assert stranger.status_code == 401 and "x-ratelimit-limit" not in stranger.headers


def test_injected_429_keeps_its_retry_after(emu: RunningEmulator, http: httpx.Client) -> None:
    emu.state.faults.inject(429, retry_after=3)
    injected = http.get("/payments")
    assert injected.status_code == 429 and injected.headers["retry-after"] == "3"
    assert emu.state.requests.too_many == 1


def test_control_api_and_checkout_page_are_not_limited(
    emu: RunningEmulator, client: DodoPayments, http: httpx.Client, clock: FakeTime
) -> None:
    session_id = buy(client)
    fire(http, 39)
    assert fire(http, 1)[0].status_code == 429
    page = httpx.get(f"{emu.base_url}/checkout/{session_id}")
    assert page.status_code == 200 and "x-ratelimit-limit" not in page.headers
    control = httpx.get(f"{emu.control_url}/requests")
    assert control.status_code == 200 and "x-ratelimit-limit" not in control.headers
    assert control.json()["total"] == 41  # the checkout and 40 lists; neither page counts


def test_limits_can_be_turned_off_or_changed(
    emu: RunningEmulator, http: httpx.Client, clock: FakeTime
) -> None:
    emu.state.options.rate_limit = None
    answers = fire(http, 60)
    assert all(a.status_code == 200 and "x-ratelimit-limit" not in a.headers for a in answers)

    with httpx.Client(base_url=emu.control_url) as control:
        assert control.put("/rate-limit", json={"per_second": 2, "per_minute": 3}).is_success
        assert [a.status_code for a in fire(http, 3)] == [200, 200, 429]
        assert control.put("/rate-limit", json={"enabled": False}).json() == {"enabled": False}
        assert fire(http, 1)[0].status_code == 200
        assert control.put("/rate-limit", json={}).json()["per_minute"] == 240
        assert limits(fire(http, 1)[0]) == ("240", "39", "1")


def test_every_api_request_is_counted(
    emu: RunningEmulator, client: DodoPayments, clock: FakeTime
) -> None:
    paid = complete_checkout(emu.state, buy(client))
    client.payments.retrieve(paid.payment_id)
    client.payments.retrieve(paid.payment_id)
    client.refunds.create(payment_id=paid.payment_id)
    client.disputes.list()
    endpoint = client.webhooks.create(url="http://127.0.0.1:9/hooks")
    client.webhooks.retrieve_secret(endpoint.id)
    with pytest.raises(dodopayments.NotFoundError):
        client.payments.retrieve("pay_missing")
    emu.state.faults.inject(429)
    with pytest.raises(dodopayments.RateLimitError):
        client.payments.list()

    counted = emu.state.requests
    assert counted.total == 9 and counted.too_many == 1
    assert counted.count("GET", "/payments/{id}") == 3
    assert counted.count(route="/payments") == 1
    assert counted.count("POST") == 3
    with httpx.Client(base_url=emu.control_url) as control:
        snapshot = control.get("/requests").json()
        assert snapshot["total"] == 9 and snapshot["too_many_requests"] == 1
        assert snapshot["by_status"] == {"200": 7, "404": 1, "429": 1}
        assert snapshot["by_route"] == {
            "POST /checkouts": 1,
            "GET /disputes": 1,
            "GET /payments": 1,
            "GET /payments/{id}": 3,
            "POST /refunds": 1,
            "POST /webhooks": 1,
            "GET /webhooks/{id}/secret": 1,
        }
        assert control.delete("/requests").json()["total"] == 0
    assert counted.total == 0


def test_limiter_keeps_accounts_and_windows_apart() -> None:
    fake = FakeTime()
    limiter = RateLimiter(fake)
    rule = RateLimit(per_second=2, per_minute=3, second=0.5, minute=3.0)
    verdicts = [limiter.take(("bus", "test"), rule) for _ in range(3)]
    assert [v.allowed for v in verdicts] == [True, True, False]
    assert limiter.take(("bus", "live"), rule).allowed
    fake.now += 0.5
    assert limiter.take(("bus", "test"), rule).remaining == 0  # the minute's third
    limiter.reset()
    assert limiter.take(("bus", "test"), rule).remaining == 1
