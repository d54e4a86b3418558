"""What tracking announces to the layers above it (see bantico/kit/hooks.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bantico.kit.hooks import Hook

# A visitor was identified with an email: (session, project_id, email or None).
identified: Hook[[Session, str, str | None]] = Hook("tracking.identified")
# A stored click was tied to the visitor who landed: (session, project_id, visitor_id,
# the click's event id).
click_tied: Hook[[Session, str, str, int]] = Hook("tracking.click_tied")
