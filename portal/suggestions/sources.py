"""Lets the demand pages click through from a suggestion signal to the suggestion (portal.demand.sources)."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from portal.core.masking import text_for
from portal.core.scoping import PLACE_EDITORS, scoped
from portal.demand.models import SignalSource
from portal.demand.sources import RecordRef, register
from portal.extensions import db
from portal.suggestions.models import Suggestion


@register(SignalSource.suggestion)
def suggestions(ids: list[str], user) -> dict[str, RecordRef]:
    if getattr(user, "role", None) not in PLACE_EDITORS:
        return {}  # operators may count this demand but not open the records behind it
    numeric = [int(i) for i in ids if i.isdigit()]
    stmt = scoped(select(Suggestion).where(Suggestion.id.in_(numeric)), Suggestion, user)
    return {str(s.id): RecordRef(SignalSource.suggestion, str(s.id), f"网上建议 #{s.id}", text_for(user, s.content),
                                 url_for("suggestions.detail", suggestion_id=s.id))
            for s in db.session.scalars(stmt)}
