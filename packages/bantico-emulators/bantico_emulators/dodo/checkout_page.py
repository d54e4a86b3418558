"""The hosted checkout page behind `checkout_url`: a Pay button for demos and browser tests.

The redirect after paying carries `?payment_id=pay_…&status=succeeded`, as Dodo's does.
"""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bantico_emulators.dodo.auth import emulator_state
from bantico_emulators.dodo.checkouts import complete_checkout
from bantico_emulators.dodo.errors import DodoError
from bantico_emulators.dodo.records import CheckoutSession, Ledger

router = APIRouter(include_in_schema=False)

_DECIMALS = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "UGX": 0,
    "KWD": 3,
    "BHD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}"
    "table{width:100%;border-collapse:collapse}td{padding:.3rem 0}td+td{text-align:right}"
    "input{width:100%;padding:.5rem;margin:.3rem 0 1rem;box-sizing:border-box}"
    "button{padding:.6rem 1.2rem;margin-right:.5rem}.mode{color:#a15c00}"
)


def money(amount: int, currency: str) -> str:
    """Amounts are in the currency's smallest unit: JPY has no decimals, KWD has three."""
    places = _DECIMALS.get(currency.upper(), 2)
    return f"{amount / 10**places:,.{places}f} {escape(currency)}"


@router.get("/checkout/{session_id}")
def show_checkout(session_id: str, request: Request) -> HTMLResponse:
    state = emulator_state(request)
    with state.lock:
        ledger, session = state.find_checkout(session_id)
        paid = ledger.payments.get(session.payment_id or "")
        if paid is not None and paid.status in ("succeeded", "processing"):
            link = _return(session, paid.payment_id, paid.status)
            back = f'<p><a href="{escape(link)}">Back to the shop</a></p>' if link else ""
            if paid.status == "processing":
                return _page("Payment processing", f"<p>The payment is processing.</p>{back}")
            return _page("Already paid", f"<p>This checkout is already paid.</p>{back}")
        return _page("Checkout", _form(ledger, session, declined=paid is not None))


@router.post("/checkout/{session_id}")
async def pay_checkout(session_id: str, request: Request) -> Response:
    # Parsed by hand: python-multipart (FastAPI's form parser) is not a dependency.
    form = dict(parse_qsl((await request.body()).decode()))
    state = emulator_state(request)
    try:
        payment = await run_in_threadpool(
            complete_checkout,
            state,
            session_id,
            email=form.get("email", "").strip() or None,
            name=form.get("name", "").strip() or None,
            succeed=form.get("action", "pay") != "decline",
        )
    except DodoError as error:
        return _page("Payment not possible", f"<p>{escape(error.message)}</p>", error.status)
    _, session = state.find_checkout(session_id)
    link = _return(session, payment.payment_id, payment.status)
    if link:
        return RedirectResponse(link, status_code=303)
    return _page(
        f"Payment {payment.status}",
        f"<p>Payment <code>{payment.payment_id}</code> {escape(payment.status)}.</p>",
    )


def _form(ledger: Ledger, session: CheckoutSession, *, declined: bool) -> str:
    rows = "".join(
        f"<tr><td>{escape(ledger.products[i.product_id].name)} &times; {i.quantity}</td>"
        f"<td>{money(i.amount, session.currency)}</td></tr>"
        for i in session.cart
    )
    total = money(sum(i.amount for i in session.cart), session.currency)
    email = escape(session.customer_email or "")
    locked = " readonly" if session.customer_id else ""
    notice = "<p role='alert'>The last attempt was declined.</p>" if declined else ""
    return (
        f"<p class='mode'>{escape(ledger.mode)} mode · emulated Dodo Payments</p>{notice}"
        f"<table>{rows}<tr><th>Total</th><td><strong>{total}</strong></td></tr></table>"
        f"<form method='post'><label>Email <input type='email' name='email' required "
        f"value='{email}'{locked}></label>"
        "<button type='submit' name='action' value='pay' id='pay'>Pay</button>"
        "<button type='submit' name='action' value='decline' id='decline' formnovalidate>"
        "Decline</button></form>"
    )


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}"
        f"</title><meta name='viewport' content='width=device-width'><style>{_STYLE}</style>"
        f"</head><body><h1>{escape(title)}</h1>{body}</body></html>",
        status_code=status,
    )


def _return(session: CheckoutSession, payment_id: str, status: str) -> str | None:
    if not session.return_url:
        return None
    parts = urlsplit(session.return_url)
    query = [*parse_qsl(parts.query), ("payment_id", payment_id), ("status", status)]
    return urlunsplit(parts._replace(query=urlencode(query)))
