"""Which referring sites count as a source. Payment and checkout pages never do: a customer
coming back from paying was brought by whatever sent them to the checkout."""

from __future__ import annotations

from urllib.parse import urlsplit

PAYMENT_DOMAINS = (
    "dodopayments.com",
    "checkout.stripe.com",
    "stripe.com",
    "paypal.com",
    "paddle.com",
    "lemonsqueezy.com",
    "polar.sh",
    "gumroad.com",
    "razorpay.com",
    "checkout.shopify.com",
    "pay.google.com",
    "apple.com",
    "klarna.com",
    "adyen.com",
    "mollie.com",
    "braintreegateway.com",
    "2checkout.com",
    "fastspring.com",
    "chargebee.com",
)
PAYMENT_PARAM_SOURCES = {"dodo", "dodopayments", "stripe", "paypal", "checkout"}


def host_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower().removeprefix("www.") if host else None


def is_payment_domain(host: str | None) -> bool:
    if not host:
        return False
    return any(host == domain or host.endswith("." + domain) for domain in PAYMENT_DOMAINS)


def referral_source(referrer: str | None, page_url: str | None) -> str | None:
    """The referring site's host when it is another site and not a payment page."""
    ref_host = host_of(referrer)
    if ref_host is None or ref_host == host_of(page_url) or is_payment_domain(ref_host):
        return None
    return ref_host


def is_payment_source(source: str | None) -> bool:
    if not source:
        return False
    lowered = source.strip().lower()
    return lowered in PAYMENT_PARAM_SOURCES or is_payment_domain(host_of(f"https://{lowered}"))
