"""Tagging minutes points and suggestions the way tickets are tagged, shared by both domains.

Residents and staff should never meet a crash because the theme model is missing or being
replaced: then records are kept untagged and flagged for review, and staff tag them by hand.
"""
from __future__ import annotations

from typing import Optional, Sequence

from flask import current_app

from portal.core.tagging import tag_texts


def tag_many(texts: Sequence[str]) -> Optional[list]:
    """One result per text, or None when the model cannot be used right now."""
    if not texts:
        return []
    try:
        return tag_texts(list(texts))
    except (RuntimeError, ImportError, OSError, ValueError) as exc:
        current_app.logger.error("theme model unavailable, records left untagged: %s", exc)
        return None


def apply_result(record, result) -> None:
    """Copy a TagResult onto a record with themes/theme_scores/urgent/needs_review/model_version."""
    if result is None:
        record.themes, record.theme_scores, record.urgent = [], {}, False
        record.needs_review, record.model_version = True, None
    else:
        record.themes = [code for code, _ in result.themes]
        record.theme_scores = {code: round(float(p), 4) for code, p in result.themes}
        record.urgent = bool(result.urgent)
        record.needs_review = bool(result.needs_review)
        record.model_version = result.model_version
    record.tags_confirmed = False


def tag_state(record) -> dict:
    return {"themes": list(record.themes or []), "urgent": bool(record.urgent),
            "needs_review": bool(record.needs_review)}


def confirm(record, themes: Sequence[str], urgent: bool) -> tuple[dict, dict, bool]:
    """Staff accept or correct the themes: (before, after, corrected). Raises ServiceError on bad themes."""
    from portal.tickets.services import validate_themes

    themes = validate_themes(list(themes))
    before = tag_state(record)
    record.themes = themes
    record.theme_scores = {k: v for k, v in (record.theme_scores or {}).items() if k in themes}
    record.urgent = bool(urgent)
    record.needs_review = False
    record.tags_confirmed = True
    after = tag_state(record)
    return before, after, before["themes"] != themes or before["urgent"] != record.urgent
