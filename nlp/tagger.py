"""Load a trained model file and tag texts.

>>> tagger = load_model()                       # nlp/models/default.joblib or $MINSHENG_MODEL
>>> r = tagger.tag("楼道里有人飞线充电，消防通道也被堵了")
>>> r.themes, r.urgent, r.needs_review          # doctest: +SKIP
([('ev_charging', 0.93), ('fire_safety', 0.71)], True, False)

A model file is a joblib dump of a plain dict (see :func:`nlp.training.train`): the feature space, one
weight column, bias and Platt sigmoid per label, the decision thresholds, an optional urgent head, and
``metadata`` (training data hash, label set, cross-validated scores, creation time, parameters).

A theme tagger answers ``other`` (and asks for review) when it has nothing to go on: the top theme's
probability is below ``min_confidence``, or no word of the text points to that theme, only characters do
("今天天气不错" is segmented 今天天气 / 不错, words the model never saw; its 气 and 天气 are character
n-grams of 燃气 texts). A word the model never saw still counts through its known parts of two or more
characters ("楼顶漏水" → 楼顶, 漏水), so a compound the segmenter keeps whole is not lost.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .features import Doc, FeatureSpace, make_doc
from .linear import platt_apply
from .themes import MAX_THEMES, OTHER
from .urgent import is_urgent

__all__ = [
    "TagResult",
    "known_parts",
    "word_evidence",
    "Tagger",
    "load_model",
    "default_model_path",
    "MODEL_ENV",
    "FORMAT_VERSION",
    "PARALLEL_MIN_TEXTS",
]

MODEL_ENV = "MINSHENG_MODEL"
FORMAT_VERSION = 1
#: ``tag_batch`` uses a process pool only from this many texts on (below it the pool costs more than it saves).
PARALLEL_MIN_TEXTS = 400


def default_model_path() -> Path:
    """``$MINSHENG_MODEL`` if set, else ``nlp/models/default.joblib``."""
    env = os.environ.get(MODEL_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parent / "models" / "default.joblib"


def known_parts(words: list[str], vocab, min_len: int = 2, max_len: int = 6, max_word: int = 16) -> list[str]:
    """The words in ``vocab``, and for each word not in it its substrings of ``min_len``–``max_len``
    characters that are ("今天天气" → 今天, 天天, 天气)."""
    out: list[str] = []
    for w in words:
        if w in vocab:
            out.append(w)
            continue
        n = len(w)
        if n <= min_len or n > max_word:
            continue
        for i in range(n - min_len + 1):
            for j in range(i + min_len, min(n, i + max_len) + 1):
                if j - i < n and w[i:j] in vocab:
                    out.append(w[i:j])
    return out


def word_evidence(features: FeatureSpace, W: np.ndarray, docs: list[Doc], X, top: np.ndarray) -> np.ndarray | None:
    """What each text's words add to each label's score (n × labels), the evidence ``decide`` asks for.

    Known words as they weigh in ``X``; a row whose known words do not support its ``top`` label is
    recomputed from :func:`known_parts` of its words. None when the features have no word block.
    """
    if "w" not in features.offsets:
        return None
    start = features.offsets["w"]
    end = start + len(features.idf["w"])
    S = np.asarray(X[:, start:end] @ W[start:end])
    weak = np.flatnonzero(S[np.arange(len(docs)), top] <= 0)
    if len(weak):
        parts = [Doc(docs[i].text, known_parts(docs[i].words, features.word_vocab)) for i in weak]
        S[weak] = np.asarray(features.transform_block("w", parts) @ W[start:end])
    return S


@dataclass
class TagResult:
    """Themes (code, probability), most probable first; 1–3 of them, ``other`` always alone."""

    themes: list[tuple[str, float]]
    urgent: bool
    needs_review: bool
    model_version: str
    scores: dict[str, float] = field(default_factory=dict, repr=False)  # every label's probability

    @property
    def codes(self) -> list[str]:
        return [c for c, _ in self.themes]

    def to_dict(self) -> dict:
        return {
            "themes": [{"code": c, "probability": round(p, 4)} for c, p in self.themes],
            "urgent": self.urgent,
            "needs_review": self.needs_review,
            "model_version": self.model_version,
        }


class Tagger:
    """A loaded model. Thread-safe for tagging (no state changes after construction)."""

    def __init__(self, state: dict, path: str | os.PathLike | None = None):
        if state.get("format") != FORMAT_VERSION:
            raise ValueError(f"unsupported model format {state.get('format')!r}")
        self.state = state
        self.path = str(path) if path else None
        self.labels: list[str] = list(state["labels"])
        self.mode: str = state["mode"]  # "themes" | "single" | "multi"
        self.features = FeatureSpace.from_state(state["features"])
        self.W = np.ascontiguousarray(state["W"], dtype=np.float32)
        self.b = np.asarray(state["b"], dtype=np.float32)
        self.platt_a = np.asarray(state["platt_a"], dtype=np.float64)
        self.platt_c = np.asarray(state["platt_c"], dtype=np.float64)
        self.thresholds = np.asarray(state["thresholds"], dtype=np.float64)
        self.rel_threshold = float(state.get("rel_threshold", 0.0))
        self.review_threshold = float(state.get("review_threshold", 0.5))
        self.max_labels = int(state.get("max_labels", MAX_THEMES))
        self.urgent_head: dict | None = state.get("urgent")
        self.other_index = self.labels.index(OTHER) if (self.mode == "themes" and OTHER in self.labels) else -1
        # older model files lack these: no floor; the word-evidence rule is a decision rule and applies to them too
        self.min_confidence = float(state.get("min_confidence", 0.0))
        self.require_word_evidence = bool(state.get("require_word_evidence", True)) and self.other_index >= 0

    # ------------------------------------------------------------------ properties
    @property
    def version(self) -> str:
        return self.state["version"]

    @property
    def metadata(self) -> dict:
        return self.state["metadata"]

    def __repr__(self) -> str:
        return f"<Tagger {self.version} mode={self.mode} labels={len(self.labels)} dim={self.features.dim}>"

    # ------------------------------------------------------------------ scoring
    def word_support_docs(self, docs: list[Doc], X=None, P=None) -> np.ndarray | None:
        """The words' part of every label's score (see :func:`word_evidence`); None when the rule is off."""
        if not self.require_word_evidence:
            return None
        if X is None:
            X = self.features.transform(docs)
        if P is None:
            P = platt_apply(np.asarray(X @ self.W) + self.b, self.platt_a, self.platt_c)
        return word_evidence(self.features, self.W, docs, X, np.argmax(P, axis=1))

    def scores_docs(self, docs: list[Doc]) -> np.ndarray:
        """Raw linear scores (n × labels)."""
        X = self.features.transform(docs)
        return np.asarray(X @ self.W) + self.b

    def proba_docs(self, docs: list[Doc]) -> np.ndarray:
        """Calibrated probabilities (n × labels)."""
        return platt_apply(self.scores_docs(docs), self.platt_a, self.platt_c)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.proba_docs([make_doc(t) for t in texts])

    def decide(self, p: np.ndarray, word_support: np.ndarray | None = None) -> tuple[list[int], bool]:
        """Label indices chosen from one row of probabilities, and the needs-review flag.

        ``word_support``: that row of :meth:`word_support_docs`; without it the word-evidence rule is not applied.
        """
        order = np.argsort(-p, kind="stable")
        top = int(order[0])
        review = bool(p[top] < self.review_threshold)
        if self.mode == "single":
            return [top], review
        if top != self.other_index and self.other_index >= 0 and not self._has_evidence(p, top, word_support):
            return [self.other_index], True
        chosen = [top]
        if top != self.other_index:
            floor = self.rel_threshold * p[top]
            for j in order[1:]:
                if len(chosen) >= self.max_labels:
                    break
                j = int(j)
                if j == self.other_index:
                    continue
                if p[j] >= self.thresholds[j] and p[j] >= floor:
                    chosen.append(j)
                elif p[j] < 0.05:
                    break
        return chosen, review

    def _has_evidence(self, p: np.ndarray, top: int, word_support: np.ndarray | None) -> bool:
        if p[top] < self.min_confidence:
            return False
        if self.require_word_evidence and word_support is not None and word_support[top] <= 0:
            return False
        return True

    def _urgent_docs(self, docs: list[Doc], X=None) -> list[bool]:
        rules = [is_urgent(d.text, normalized=True) for d in docs]
        head = self.urgent_head
        if not head:
            return rules
        if X is None:
            X = self.features.transform(docs)
        s = np.asarray(X @ head["w"]).ravel() + head["b"]
        pu = platt_apply(s, head["a"], head["c"])
        hi, lo = head["threshold"], head["rule_threshold"]
        return [bool(pu[i] >= hi or (rules[i] and pu[i] >= lo)) for i in range(len(docs))]

    def _tag_docs(self, docs: list[Doc]) -> list[TagResult]:
        if not docs:
            return []
        X = self.features.transform(docs)
        S = np.asarray(X @ self.W) + self.b
        P = platt_apply(S, self.platt_a, self.platt_c)
        support = self.word_support_docs(docs, X, P)
        urgent = self._urgent_docs(docs, X)
        out = []
        labels = self.labels
        for i, d in enumerate(docs):
            p = P[i]
            chosen, review = self.decide(p, None if support is None else support[i])
            if not d.text:  # nothing to read: flagged for review
                review = True
            out.append(
                TagResult(
                    themes=[(labels[j], float(round(p[j], 6))) for j in chosen],
                    urgent=urgent[i],
                    needs_review=review,
                    model_version=self.version,
                    scores={labels[j]: float(p[j]) for j in range(len(labels))},
                )
            )
        return out

    # ------------------------------------------------------------------ public tagging
    def tag(self, text: str | None) -> TagResult:
        """Tag one text."""
        return self._tag_docs([make_doc(text)])[0]

    def tag_batch(self, texts, n_jobs: int | None = None, chunk_size: int = 256) -> list[TagResult]:
        """Tag many texts; in order. ``n_jobs``: processes (``None`` = every core, 1 = this process).

        Small batches (< ``PARALLEL_MIN_TEXTS``) are always tagged in this process.
        """
        texts = list(texts)
        if n_jobs is None or n_jobs < 1:
            n_jobs = os.cpu_count() or 1
        n_jobs = min(n_jobs, max(1, len(texts) // max(chunk_size // 2, 1)))
        if n_jobs <= 1 or len(texts) < PARALLEL_MIN_TEXTS:
            out: list[TagResult] = []
            for i in range(0, len(texts), chunk_size):
                out.extend(self._tag_docs([make_doc(t) for t in texts[i : i + chunk_size]]))
            return out
        return _parallel_tag(self, texts, n_jobs, chunk_size)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> Path:
        import joblib

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        joblib.dump(self.state, tmp, compress=3)
        os.replace(tmp, path)
        self.path = str(path)
        return path


# ---------------------------------------------------------------------------- multiprocessing

_WORKER_TAGGER: Tagger | None = None


def _worker_init(tagger_or_path):
    global _WORKER_TAGGER
    from .tokenize import get_jieba

    _WORKER_TAGGER = tagger_or_path if isinstance(tagger_or_path, Tagger) else load_model(tagger_or_path, cache=False)
    get_jieba()


def _worker_tag(texts: list[str]) -> list[TagResult]:
    assert _WORKER_TAGGER is not None
    return _WORKER_TAGGER._tag_docs([make_doc(t) for t in texts])


def _parallel_tag(tagger: Tagger, texts: list[str], n_jobs: int, chunk_size: int) -> list[TagResult]:
    import multiprocessing as mp

    from .tokenize import get_jieba

    get_jieba()  # loaded before fork: workers inherit the dictionary
    methods = mp.get_all_start_methods()
    if "fork" in methods:
        ctx = mp.get_context("fork")
        init_arg = tagger  # inherited by the forked workers, not pickled
    else:  # pragma: no cover - non-POSIX
        ctx = mp.get_context("spawn")
        if not tagger.path:
            raise RuntimeError("parallel tagging under 'spawn' needs a tagger loaded from a file")
        init_arg = tagger.path
    chunks = [texts[i : i + chunk_size] for i in range(0, len(texts), chunk_size)]
    out: list[TagResult] = []
    import gc

    # forked workers share the parent's memory copy-on-write; the cyclic GC would write to every object
    # header of the jieba dictionary and the model in every worker (copying hundreds of MB); frozen
    # objects are left alone
    gc.freeze()
    try:
        with ctx.Pool(n_jobs, initializer=_worker_init, initargs=(init_arg,)) as pool:
            for part in pool.imap(_worker_tag, chunks):
                out.extend(part)
    finally:
        gc.unfreeze()
    return out


# ---------------------------------------------------------------------------- loading

_CACHE: dict[tuple[str, float], Tagger] = {}
_CACHE_LOCK = threading.Lock()


def load_model(path: str | os.PathLike | None = None, cache: bool = True) -> Tagger:
    """Load a model file (default: :func:`default_model_path`). Loaded models are cached by path and mtime."""
    import joblib

    p = Path(path) if path else default_model_path()
    if not p.exists():
        raise FileNotFoundError(
            f"model file {p} not found; build it with: python -m nlp train --out {p}"
        )
    key = (str(p.resolve()), p.stat().st_mtime)
    if cache:
        with _CACHE_LOCK:
            t = _CACHE.get(key)
            if t is not None:
                return t
    tagger = Tagger(joblib.load(p), path=p)
    if cache:
        with _CACHE_LOCK:
            for k in [k for k in _CACHE if k[0] == key[0] or len(_CACHE) > 4]:
                del _CACHE[k]  # an older version of this file, or too many models
            _CACHE[key] = tagger
    return tagger
