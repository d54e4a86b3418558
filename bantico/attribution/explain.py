"""A payment's attribution in plain words, for the founder or for support."""

from __future__ import annotations

from bantico.attribution.models import Attribution
from bantico.attribution.resolve import describe
from bantico.kit.money import format_amount
from bantico.payments.models import Payment

# Each method's name, the same on every page that shows it.
METHOD_NAMES = {
    "metadata": "Payment metadata",
    "session": "Visitor context",
    "identify": "Email match",
    "none": "Not attributed",
}
# How it was found, in a sentence.
METHODS = {
    "metadata": "from the Dodo payment metadata",
    "session": "from the context already on the visitor",
    "identify": "by matching the customer's email to identify()",
    "none": "not attributed",
}


def explain(payment: Payment, attribution: Attribution | None) -> list[str]:
    amount = format_amount(payment.total_amount, payment.currency)
    when = f"{payment.created_at:%Y-%m-%d %H:%M} UTC"
    lines = [f"Payment {payment.provider_payment_id} of {amount} on {when} ({payment.mode} mode)."]
    if payment.excluded_reason:
        lines.append(f"It is not counted as revenue: {payment.excluded_reason}.")
    if attribution is None:
        lines.append("It has not been attributed yet.")
        return lines
    context = {
        name: getattr(attribution, name)
        for name in ("link_id", "campaign_id", "source", "medium", "content", "lead_id")
    }
    if attribution.method == "none":
        lines.append("It is unattributed: nothing connects it to a link, campaign or visitor.")
    else:
        lines.append(
            f"Attributed {METHODS[attribution.method]} to {describe(context)} "
            f"(confidence {attribution.confidence:.0%})."
        )
    latest = (attribution.trace or [{}])[-1]
    for number, step in enumerate(latest.get("steps", []), start=1):
        lines.append(f"Step {number}, {step['step']}: {step['detail']}")
    lines.extend(f"Warning: {warning}." for warning in attribution.warnings or [])
    runs = len(attribution.trace or [])
    if runs > 1:
        reasons = "; ".join(run.get("reason", "?") for run in attribution.trace)
        lines.append(f"Attribution ran {runs} times ({reasons}); the latest run decides.")
    return lines
