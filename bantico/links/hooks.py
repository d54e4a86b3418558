"""What links announce to the layers above them (see bantico/kit/hooks.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bantico.kit.hooks import Hook

# A link was created or changed: (session, project_id, link_id).
link_changed: Hook[[Session, str, str]] = Hook("links.link_changed")
# A campaign or a lead was named for the first time: (session, project_id, campaign_id,
# lead_id), each None unless it is the new one.
labels_created: Hook[[Session, str, str | None, str | None]] = Hook("links.labels_created")
