"""Facts a Bantico installation keeps about itself in its database, for every process and
command that shares it: e.g. the address `bantico serve` last listened on, so that the CLI
prints short URLs on the port the server really has."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bantico.db import Base, upsert, utcnow

SERVE_ADDRESS = "serve_address"


class InstanceFact(Base):
    __tablename__ = "instance_facts"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(2048))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


def remember(session: Session, name: str, value: str) -> None:
    now = utcnow()
    session.execute(
        upsert(
            session,
            InstanceFact,
            keys=["name"],
            values={"name": name, "value": value, "updated_at": now},
            update={"value": value, "updated_at": now},
        )
    )


def recall(session: Session, name: str) -> str | None:
    found = session.execute(select(InstanceFact.value).where(InstanceFact.name == name))
    return found.scalar_one_or_none()
