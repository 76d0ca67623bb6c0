"""Keyword extraction for summaries: which words characterise a group of texts.

A word's score is the share of the group's texts that contain it (sublinear in its count) times its
inverse document frequency in the project corpus (``nlp/corpus/*.csv``, computed once per process), so
words every complaint uses (小区, 问题) sink and the specific ones (化粪池, 飞线充电) rise. Stop-words,
numbers and single characters are left out. Scores are scaled so the best keyword has 1.0.

>>> extract_keywords(["小区化粪池堵了，污水外溢", "化粪池满了没人清掏"], top_k=1)
[('化粪池', 1.0)]
"""
from __future__ import annotations

import math
import threading
from collections import Counter
from typing import Iterable

from .tokenize import tokenize

__all__ = ["extract_keywords", "background_idf"]

_LOCK = threading.Lock()
_BACKGROUND: tuple[int, dict[str, int]] | None = None


def background_idf() -> tuple[int, dict[str, int]]:
    """(number of corpus texts, document frequency of each word) — computed once, from the corpus."""
    global _BACKGROUND
    if _BACKGROUND is None:
        with _LOCK:
            if _BACKGROUND is None:
                df: Counter = Counter()
                n = 0
                try:
                    from .training import corpus_records

                    for r in corpus_records():
                        df.update(set(tokenize(r.text)))
                        n += 1
                except (FileNotFoundError, OSError):
                    pass
                _BACKGROUND = (n, dict(df))
    return _BACKGROUND


def _usable(w: str) -> bool:
    return len(w) >= 2 and not w.isdigit()


def extract_keywords(texts: Iterable[str] | str, top_k: int = 10) -> list[tuple[str, float]]:
    """Top ``top_k`` (word, score) pairs of ``texts`` (a string counts as one text), best first."""
    if isinstance(texts, str):
        texts = [texts]
    docs = [tokenize(t) for t in texts if t]
    docs = [d for d in docs if d]
    if not docs or top_k <= 0:
        return []
    n_bg, df_bg = background_idf()
    if n_bg == 0:  # no corpus: contrast against the texts themselves
        n_bg = len(docs)
        df_bg = Counter(w for d in docs for w in set(d))
    score: Counter = Counter()
    for d in docs:
        for w, c in Counter(d).items():
            if _usable(w):
                score[w] += 1.0 + math.log(c)
    if not score:
        return []
    out = []
    for w, tf in score.items():
        idf = math.log((1 + n_bg) / (1 + df_bg.get(w, 0))) + 1.0
        out.append((w, tf / len(docs) * idf))
    out.sort(key=lambda x: (-x[1], x[0]))
    top = out[:top_k]
    best = top[0][1] or 1.0
    return [(w, round(s / best, 4)) for w, s in top]
