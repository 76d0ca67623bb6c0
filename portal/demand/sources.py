"""What a demand signal points back to: each source domain says how to show its records.

A loader takes record ids (strings, as stored in demand_signals.record_id) and returns, for those
the user may see, a RecordRef with the text and the page to click through to.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from flask import url_for
from sqlalchemy import select

from portal.core.scoping import scoped
from portal.demand.models import SignalSource
from portal.extensions import db


@dataclass(frozen=True)
class RecordRef:
    source: SignalSource
    record_id: str
    label: str
    text: str
    url: str


Loader = Callable[[list[str], object], dict[str, RecordRef]]
LOADERS: dict[SignalSource, Loader] = {}


def register(source: SignalSource):
    def decorator(loader: Loader) -> Loader:
        LOADERS[source] = loader
        return loader

    return decorator


def load_records(pairs: Iterable[tuple[SignalSource, str]], user) -> dict[tuple[SignalSource, str], RecordRef]:
    by_source: dict[SignalSource, list[str]] = {}
    for source, record_id in pairs:
        by_source.setdefault(source, []).append(record_id)
    found = {}
    for source, ids in by_source.items():
        loader = LOADERS.get(source)
        if loader:
            for record_id, ref in loader(ids, user).items():
                found[(source, record_id)] = ref
    return found


@register(SignalSource.hotline)
def _tickets(ids: list[str], user) -> dict[str, RecordRef]:
    from portal.core.masking import text_for
    from portal.tickets.models import Ticket

    numeric = [int(i) for i in ids if i.isdigit()]
    stmt = scoped(select(Ticket).where(Ticket.id.in_(numeric)), Ticket, user)
    return {str(t.id): RecordRef(SignalSource.hotline, str(t.id), f"工单 {t.number}",
                                 text_for(user, "。".join(p for p in (t.title, t.content) if p)),
                                 url_for("tickets.detail", ticket_id=t.id))
            for t in db.session.scalars(stmt)}
