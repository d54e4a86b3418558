"""Attribution models: how a payment's credit is shared among the touches that led to it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bantico.attribution.models import Credit
from bantico.attribution.resolve import Context, Outcome

MODELS = ("last_touch", "first_touch", "linear")


def shares(out: Outcome) -> dict[str, list[tuple[float, Context]]]:
    """Weights per model, each summing to 1. Without context the payment is unattributed."""
    final = out.context
    if not any(final.values()):
        return {model: [(1.0, final)] for model in MODELS}
    path = [touch.context for touch in out.touches]
    if not path or path[-1] != final:
        path.append(final)  # the checkout's own context is the journey's last step
    linear: dict[tuple[tuple[str, str | None], ...], float] = {}
    for context in path:
        key = tuple(sorted(context.items()))
        linear[key] = linear.get(key, 0.0) + 1 / len(path)
    return {
        "last_touch": [(1.0, final)],
        "first_touch": [(1.0, path[0])],
        "linear": [(weight, dict(key)) for key, weight in linear.items()],
    }


def store_credits(session: Session, project_id: str, payment_id: int, out: Outcome) -> None:
    session.query(Credit).filter(Credit.payment_id == payment_id).delete()
    if out.inherited_from is not None:
        # Renewals and repeat customers share credit exactly as the payment they inherit from.
        inherited = (
            session.execute(select(Credit).where(Credit.payment_id == out.inherited_from))
            .scalars()
            .all()
        )
        if inherited and out.method == "session":
            for credit in inherited:
                session.add(
                    Credit(
                        project_id=project_id,
                        payment_id=payment_id,
                        model=credit.model,
                        weight=credit.weight,
                        link_id=credit.link_id,
                        campaign_id=credit.campaign_id,
                        source=credit.source,
                        medium=credit.medium,
                        content=credit.content,
                        lead_id=credit.lead_id,
                    )
                )
            return
    for model, parts in shares(out).items():
        for weight, context in parts:
            session.add(
                Credit(
                    project_id=project_id,
                    payment_id=payment_id,
                    model=model,
                    weight=weight,
                    **context,
                )
            )
