"""A lease in the database: one holder at a time, renewable, taken over once it expires."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, update

from bantico.db import make_sessionmaker, session_scope, utcnow
from bantico.kit.leases import Lease, acquire, release

TTL = timedelta(minutes=5)


def test_one_holder_at_a_time_until_released_or_expired(engine: Engine) -> None:
    factory = make_sessionmaker(engine)

    def take(holder: str) -> bool:
        with session_scope(factory) as session:
            return acquire(session, "job:test", holder, TTL)

    assert take("process-a")
    assert not take("process-b")  # held
    assert take("process-a")  # renewed by its holder
    with session_scope(factory) as session:
        release(session, "job:test", "process-b")  # not the holder: nothing happens
    assert not take("process-b")
    with session_scope(factory) as session:
        release(session, "job:test", "process-a")
    assert take("process-b")
    with session_scope(factory) as session:  # process-b dies holding it; the lease runs out
        gone = utcnow() - timedelta(seconds=1)
        session.execute(update(Lease).where(Lease.name == "job:test").values(expires_at=gone))
    assert take("process-a")
    assert not take("process-b")
