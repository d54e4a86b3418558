"""What payments announce to the layers above them (see bantico/kit/hooks.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bantico.kit.hooks import Hook
from bantico.payments.models import Payment

# A payment was stored or updated: (session, payment, how it arrived ("webhook", "sync", …),
# the names of the fields that changed).
payment_stored: Hook[[Session, Payment, str, frozenset[str]]] = Hook("payments.payment_stored")
