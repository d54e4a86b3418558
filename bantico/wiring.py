"""Connecting the hooks of the lower layers to their handlers in the layers above (see
bantico/kit/hooks.py). Every entry point calls `connect_hooks()` once at start-up: `create_app`, the
CLI's callback, the test suite. Connecting twice changes nothing."""

from __future__ import annotations

from bantico.attribution import late
from bantico.attribution import service as attribution
from bantico.links import hooks as links
from bantico.payments import hooks as payments
from bantico.reports import rollup
from bantico.tracking import hooks as tracking


def connect_hooks() -> None:
    links.link_changed.connect(late.after_link)
    links.labels_created.connect(late.after_labels)
    tracking.identified.connect(late.after_identify)
    tracking.click_tied.connect(rollup.mark_clicked)
    payments.payment_stored.connect(attribution.on_payment_stored)
