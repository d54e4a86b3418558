"""The hosted checkout page behind `checkout_url`, used the way a browser uses it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from dodopayments import DodoPayments

from bantico_emulators.dodo import ONE_TIME_PRODUCT_ID, RunningEmulator
from bantico_emulators.dodo.checkout_page import money
from tests.emulators.dodo.conftest import METADATA


def session(client: DodoPayments, **fields: object) -> tuple[str, str]:
    created = client.checkout_sessions.create(
        product_cart=[{"product_id": ONE_TIME_PRODUCT_ID, "quantity": 2}],
        return_url="https://shop.example/thanks?plan=pro",
        metadata=METADATA,
        **fields,  # type: ignore[arg-type]
    )
    assert created.checkout_url
    return created.session_id, created.checkout_url


def test_page_shows_the_cart_and_a_pay_button(emu: RunningEmulator, client: DodoPayments) -> None:
    session_id, url = session(client, customer={"email": "jane@example.com"})
    assert url == f"{emu.base_url}/checkout/{session_id}"
    page = httpx.get(url)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Lifetime licence &times; 2" in page.text and "98.00 USD" in page.text
    assert "id='pay'" in page.text and "value='jane@example.com'" in page.text
    assert "test mode" in page.text


def test_paying_redirects_to_return_url_with_the_payment(
    emu: RunningEmulator, client: DodoPayments
) -> None:
    _, url = session(client)
    paid = httpx.post(url, data={"email": "sam@example.com", "action": "pay"})
    assert paid.status_code == 303
    target = urlsplit(paid.headers["location"])
    query = parse_qs(target.query)
    assert (target.netloc, target.path) == ("shop.example", "/thanks")
    assert query["plan"] == ["pro"] and query["status"] == ["succeeded"]
    payment = client.payments.retrieve(query["payment_id"][0])
    assert payment.metadata == METADATA and payment.total_amount == 9800
    assert payment.customer.email == "sam@example.com"
    assert "already paid" in httpx.get(url).text
    assert httpx.post(url, data={"email": "sam@example.com"}).status_code == 409


def test_declining_then_paying(emu: RunningEmulator, client: DodoPayments) -> None:
    _, url = session(client, customer={"email": "jane@example.com"})
    declined = httpx.post(url, data={"action": "decline"})
    assert parse_qs(urlsplit(declined.headers["location"]).query)["status"] == ["failed"]
    assert "declined" in httpx.get(url).text
    paid = httpx.post(url, data={"action": "pay"})
    assert parse_qs(urlsplit(paid.headers["location"]).query)["status"] == ["succeeded"]


def test_page_escapes_what_it_shows(emu: RunningEmulator, client: DodoPayments) -> None:
    product = emu.state.add_product("<script>alert(1)</script>", 500)
    created = client.checkout_sessions.create(
        product_cart=[{"product_id": product.product_id, "quantity": 1}],
        customer={"email": "x'><b>@example.com"},
    )
    assert created.checkout_url
    page = httpx.get(created.checkout_url).text
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "'><b>" not in page


def test_without_return_url_the_page_confirms(emu: RunningEmulator, client: DodoPayments) -> None:
    created = client.checkout_sessions.create(
        product_cart=[{"product_id": ONE_TIME_PRODUCT_ID, "quantity": 1}]
    )
    assert created.checkout_url
    done = httpx.post(created.checkout_url, data={"email": "a@example.com"})
    assert done.status_code == 200 and "Payment succeeded" in done.text
    missing = httpx.get(f"{emu.base_url}/checkout/cks_missing")
    assert missing.status_code == 404


def test_money_uses_each_currency_s_decimals() -> None:
    assert money(4900, "USD") == "49.00 USD"
    assert money(4900, "JPY") == "4,900 JPY"
    assert money(4900, "KWD") == "4.900 KWD"
