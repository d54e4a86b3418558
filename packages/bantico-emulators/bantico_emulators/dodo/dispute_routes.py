"""`/disputes`: chargebacks, read-only (they are opened and resolved through the control API)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from bantico_emulators.dodo import payloads
from bantico_emulators.dodo.auth import CallerDep
from bantico_emulators.dodo.errors import not_found
from bantico_emulators.dodo.listing import CreatedFrom, CreatedTo, PageNumber, PageSize, select
from bantico_emulators.dodo.payloads import Json

router = APIRouter(prefix="/disputes")


@router.get("")
def list_disputes(
    caller: CallerDep,
    page_number: PageNumber = 0,
    page_size: PageSize = 10,
    created_at_gte: CreatedFrom = None,
    created_at_lte: CreatedTo = None,
    customer_id: str | None = None,
    dispute_status: str | None = None,
    dispute_stage: str | None = None,
) -> JSONResponse:
    """Items are `DisputeListResponse`: no customer. `amount` is a string."""
    ledger = caller.ledger
    with caller.state.lock:
        rows = [
            d
            for d in ledger.disputes.values()
            if dispute_status in (None, d.status)
            and dispute_stage in (None, d.stage)
            and customer_id in (None, ledger.payments[d.payment_id].customer_id)
        ]
        page = select(
            rows,
            gte=created_at_gte,
            lte=created_at_lte,
            page_number=page_number,
            page_size=page_size,
            max_page_number=caller.state.options.max_page_number,
        )
        return JSONResponse({"items": [payloads.dispute_list_item(d) for d in page]})


@router.get("/{dispute_id}")
def get_dispute(caller: CallerDep, dispute_id: str) -> Json:
    with caller.state.lock:
        found = caller.ledger.disputes.get(dispute_id)
        if found is None:
            raise not_found("Dispute", dispute_id)
        return payloads.dispute_detail(caller.ledger, found)
