"""Writing demand signals. Callers are the domain services that own the source records."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Optional, Sequence

from sqlalchemy import delete, insert, select

from portal.areas.models import Estate
from portal.core.time import utcnow
from portal.demand.models import DemandSignal, SignalSource
from portal.extensions import db


@dataclass(frozen=True)
class SignalInput:
    estate_id: int
    theme: str
    occurred_at: datetime
    reporter_key: str
    urgent: bool = False
    weight: float = 1.0
    model_version: Optional[str] = None


def reporter_key(kind: str, value: object) -> str:
    """A stable, non-reversible key for "who reported": a phone number, a household, an attendee."""
    digest = hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:24]
    return f"{kind}:{digest}"


def _street_of(estate_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(set(estate_ids))
    streets: dict[int, int] = {}
    for start in range(0, len(ids), 900):
        streets.update(db.session.execute(select(Estate.id, Estate.street_id).where(Estate.id.in_(ids[start:start + 900]))).all())
    return streets


def replace_signals(source: SignalSource, record_id: object, signals: Sequence[SignalInput]) -> None:
    """Make the signals of one record exactly `signals` (an empty list removes them). No commit."""
    replace_many(source, {str(record_id): signals})


def replace_many(source: SignalSource, by_record: dict[str, Sequence[SignalInput]]) -> None:
    """Bulk form for imports: one DELETE per 900 records and one INSERT for all rows. No commit."""
    record_ids = list(by_record)
    for start in range(0, len(record_ids), 900):
        db.session.execute(delete(DemandSignal).where(DemandSignal.source == source,
                                                      DemandSignal.record_id.in_(record_ids[start:start + 900])))
    streets = _street_of(s.estate_id for signals in by_record.values() for s in signals)
    now = utcnow()
    rows = [
        {"source": source, "record_id": record_id, "estate_id": s.estate_id, "street_id": streets[s.estate_id],
         "theme": s.theme, "occurred_at": s.occurred_at, "urgent": s.urgent, "weight": s.weight,
         "reporter_key": s.reporter_key, "model_version": s.model_version, "created_at": now}
        for record_id, signals in by_record.items() for s in signals if s.estate_id in streets
    ]
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(DemandSignal), rows[start:start + 5000])
