"""The portal's door to the theme model in nlp/: one loaded Tagger per process."""
from __future__ import annotations

import gc
import threading
from pathlib import Path
from typing import Sequence

from flask import current_app

_lock = threading.Lock()
_taggers: dict[str, object] = {}


def model_path() -> Path:
    """The model promoted by district_admin, else the configured or shipped default."""
    from nlp.tagger import default_model_path

    promoted = _promoted_model_path()
    if promoted is not None:
        return promoted
    configured = current_app.config.get("THEME_MODEL_PATH")
    return Path(configured) if configured else Path(default_model_path())


def _promoted_model_path() -> Path | None:
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from portal.extensions import db
    from portal.review.models import ModelStatus, ThemeModel

    try:
        path = db.session.scalar(select(ThemeModel.path).where(ThemeModel.status == ModelStatus.active))
    except SQLAlchemyError:  # schema not migrated yet: the default model still works
        return None
    return Path(path) if path and Path(path).exists() else None


def get_tagger():
    path = str(model_path())
    tagger = _taggers.get(path)
    if tagger is None:
        with _lock:
            tagger = _taggers.get(path)
            if tagger is None:
                from nlp.tagger import load_model

                if not Path(path).exists():
                    raise RuntimeError(f"theme model {path} is missing: run `make model`")
                tagger = _taggers[path] = load_model(path)
    return tagger


def tag_texts(texts: Sequence[str]):
    """Tag many texts in one call (all cores for large batches)."""
    if not texts:
        return []
    return get_tagger().tag_batch(list(texts))


def tag_text(text: str):
    return get_tagger().tag(text)


def warm_up() -> None:
    """Load what requests need from nlp/ — the theme model, the tokeniser's dictionary, the keyword
    background — then gc.freeze() everything alive so far. Those objects (millions, mostly jieba's) live
    as long as the process; left in the collector's oldest generation, every full collection walked them
    all, a 100–150 ms pause in the middle of a dashboard request. Call once per process, in an app
    context (gunicorn's post_worker_init does)."""
    from nlp.keywords import background_idf
    from nlp.tokenize import get_jieba

    get_tagger()
    get_jieba()
    background_idf()
    gc.collect()
    gc.freeze()


def forget_models() -> None:
    """After a model is promoted or replaced on disk."""
    with _lock:
        _taggers.clear()
