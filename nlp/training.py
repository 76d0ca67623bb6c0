"""Training and evaluation of theme taggers.

* :func:`load_labelled_csv` reads CSVs with a ``text`` column and either ``themes`` (codes joined by ``|``)
  or ``label`` (one class per row, any label set); optional ``urgent`` and ``split`` columns.
* :func:`corpus_paths` lists the project corpus ``nlp/corpus/*.csv``.
* :func:`train` fits a :class:`~nlp.tagger.Tagger` from records, optionally with extra records (staff
  corrections) that override corpus rows with the same text and weigh more.
* :func:`evaluate` tags records and scores the result against their gold labels.

Training is deterministic: records are sorted, folds come from a hash of the text, every learner has a
fixed ``random_state``; the model version is a hash of the training data and parameters.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

from .features import Doc, FeatureSpace, make_doc
from .linear import LinearParams, fit_ovr, fold_ids, platt_apply, platt_fit
from .tagger import FORMAT_VERSION, Tagger, known_parts
from .themes import MAX_THEMES, OTHER, THEME_CODES

__all__ = [
    "Record",
    "TrainParams",
    "load_labelled_csv",
    "corpus_paths",
    "corpus_records",
    "to_records",
    "train",
    "evaluate",
    "data_hash",
    "multilabel_scores",
]

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"


@dataclass(frozen=True)
class Record:
    """A labelled (or unlabelled: ``labels is None``) text."""

    text: str
    labels: tuple[str, ...] | None = None
    urgent: bool | None = None
    weight: float = 1.0


@dataclass
class TrainParams:
    # features
    word_bigrams: bool = True
    char_n: int = 2
    lead_n: int = 2
    min_df: int = 2
    block_weights: dict = field(default_factory=lambda: {"w": 1.0, "c": 1.0, "t": 1.0})
    # learners
    linear: LinearParams = field(default_factory=lambda: LinearParams(members=("svm", "nbsvm"), class_weight="balanced"))
    folds: int = 5
    # decisions (themes / multi-label mode)
    secondary_threshold: float | None = None  # None: tuned per label on out-of-fold probabilities
    threshold_bounds: tuple[float, float] = (0.3, 0.8)
    rel_threshold: float = 0.0
    review_threshold: float = 0.5
    #: below this top-theme probability the answer is ``other``; None: tuned on out-of-fold probabilities
    min_confidence: float | None = None
    min_confidence_bounds: tuple[float, float] = (0.0, 0.5)
    #: ``other`` when no word of the text (nor a known part of an unknown word) supports the top theme
    require_word_evidence: bool = True
    # staff corrections
    extra_weight: float = 2.0
    # urgent head
    urgent_min_positives: int = 10
    #: highest head probability below which a (negation-aware) rule hit is overruled. 0: a rule hit is
    #: always urgent and the head only adds texts the rules miss. The head learns from short corpus
    #: records; on long real messages its probability is diluted, and a tuned veto (0.1) overruled every
    #: rule hit of the real dev messages (0 of 23 urgent found) and "电梯困人了" as well.
    urgent_max_veto: float = 0.0


# ---------------------------------------------------------------------------- reading data

def _truthy(v) -> bool | None:
    if v is None:
        return None
    s = str(v).strip().lower()
    if s == "":
        return None
    return s in {"1", "true", "yes", "y", "t", "是", "紧急"}


def _split_labels(v: str) -> tuple[str, ...]:
    out: list[str] = []
    for part in str(v).replace("，", "|").replace(",", "|").split("|"):
        part = part.strip()
        if part and part not in out:
            out.append(part)
    return tuple(out)


def _open_text(path: Path) -> io.StringIO:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return io.StringIO(raw.decode(enc), newline="")
        except UnicodeDecodeError:
            continue
    return io.StringIO(raw.decode("utf-8", errors="replace"), newline="")


def load_labelled_csv(paths, split: str | None = None) -> list[Record]:
    """Records from one or more CSV files (``text`` + ``themes`` or ``label``; ``urgent``, ``split`` optional).

    Rows without any gold column give records with ``labels=None`` (they can be tagged and timed only).
    With ``split``, only rows whose ``split`` column equals it are kept.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    records: list[Record] = []
    for path in paths:
        path = Path(path)
        reader = csv.DictReader(_open_text(path))
        fields = [f.strip().lower() for f in (reader.fieldnames or [])]
        if "text" not in fields:
            raise ValueError(f"{path}: no 'text' column (columns: {reader.fieldnames})")
        if split is not None and "split" not in fields:
            raise ValueError(f"{path}: --split {split!r} given but the file has no 'split' column")
        gold = "themes" if "themes" in fields else ("label" if "label" in fields else None)
        for row in reader:
            row = {(k or "").strip().lower(): v for k, v in row.items()}
            if split is not None and (row.get("split") or "").strip() != split:
                continue
            text = row.get("text") or ""
            labels = None
            if gold == "themes":
                labels = _split_labels(row.get("themes") or "")
            elif gold == "label":
                lab = (row.get("label") or "").strip()
                labels = (lab,) if lab else ()
            if labels == ():
                labels = None
            records.append(Record(text=text, labels=labels, urgent=_truthy(row.get("urgent"))))
    return records


def corpus_paths(directory: str | os.PathLike | None = None) -> list[Path]:
    """The project corpus files ``nlp/corpus/*.csv``, sorted."""
    d = Path(directory) if directory else CORPUS_DIR
    return sorted(d.glob("*.csv"))


def corpus_records() -> list[Record]:
    paths = corpus_paths()
    if not paths:
        raise FileNotFoundError(f"no corpus files in {CORPUS_DIR}")
    return load_labelled_csv(paths)


def to_records(items: Iterable) -> list[Record]:
    """Accept :class:`Record`, dicts (``text`` + ``themes``/``labels``/``label``, ``urgent``) or (text, labels)."""
    out: list[Record] = []
    for it in items:
        if isinstance(it, Record):
            out.append(it)
            continue
        if isinstance(it, dict):
            text = it.get("text") or ""
            labs = it.get("themes", it.get("labels", it.get("label")))
            urgent = it.get("urgent")
            weight = float(it.get("weight", 1.0))
        else:
            text, labs = it[0], it[1]
            urgent = it[2] if len(it) > 2 else None
            weight = 1.0
        if isinstance(labs, str):
            labs = _split_labels(labs)
        elif labs is not None:
            labs = tuple(str(x) for x in labs)
        urgent = _truthy(urgent) if not isinstance(urgent, bool) else urgent
        out.append(Record(text=text, labels=labs or None, urgent=urgent, weight=weight))
    return out


def data_hash(records: list[Record]) -> str:
    """SHA-256 of the sorted (text, labels, urgent, weight) lines."""
    h = hashlib.sha256()
    for line in sorted(
        json.dumps([r.text, list(r.labels or ()), r.urgent, r.weight], ensure_ascii=False) for r in records
    ):
        h.update(line.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


# ---------------------------------------------------------------------------- scoring

def multilabel_scores(gold: list[tuple[str, ...]], pred: list[tuple[str, ...]], labels: list[str] | None = None) -> dict:
    """micro/macro F1, exact-match accuracy and per-label precision/recall/F1/support."""
    if labels is None:
        labels = sorted({l for g in gold for l in g} | {l for p in pred for l in p})
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    exact = 0
    for g, p in zip(gold, pred):
        gs, ps = set(g), set(p)
        exact += gs == ps
        for l in gs & ps:
            tp[l] += 1
        for l in ps - gs:
            fp[l] += 1
        for l in gs - ps:
            fn[l] += 1
    per = {}
    f1s = []
    for l in labels:
        P = tp[l] / (tp[l] + fp[l]) if tp[l] + fp[l] else 0.0
        R = tp[l] / (tp[l] + fn[l]) if tp[l] + fn[l] else 0.0
        F = 2 * P * R / (P + R) if P + R else 0.0
        support = tp[l] + fn[l]
        per[l] = {"precision": round(P, 4), "recall": round(R, 4), "f1": round(F, 4), "support": support}
        if support or tp[l] + fp[l]:
            f1s.append(F)
    TP, FP, FN = sum(tp.values()), sum(fp.values()), sum(fn.values())
    micro_p = TP / (TP + FP) if TP + FP else 0.0
    micro_r = TP / (TP + FN) if TP + FN else 0.0
    micro = 2 * micro_p * micro_r / (micro_p + micro_r) if micro_p + micro_r else 0.0
    return {
        "n": len(gold),
        "micro_f1": round(micro, 4),
        "micro_precision": round(micro_p, 4),
        "micro_recall": round(micro_r, 4),
        "macro_f1": round(float(np.mean(f1s)) if f1s else 0.0, 4),
        "accuracy": round(exact / len(gold), 4) if gold else 0.0,
        "per_label": per,
    }


def _binary_pr(gold: list[bool], pred: list[bool]) -> dict:
    gold = [bool(g) for g in gold]
    pred = [bool(p) for p in pred]
    tp = int(sum(g and p for g, p in zip(gold, pred)))
    fp = int(sum(p and not g for g, p in zip(gold, pred)))
    fn = int(sum(g and not p for g, p in zip(gold, pred)))
    P = tp / (tp + fp) if tp + fp else 0.0
    R = tp / (tp + fn) if tp + fn else 0.0
    return {
        "precision": round(P, 4),
        "recall": round(R, 4),
        "f1": round(2 * P * R / (P + R), 4) if P + R else 0.0,
        "support": tp + fn,
        "predicted": tp + fp,
    }


def evaluate(tagger: Tagger, records, n_jobs: int | None = 1) -> dict:
    """Tag ``records`` and score against their gold labels.

    Returns ``n``, ``micro_f1``, ``macro_f1`` (over labels present in gold or predictions), ``accuracy``
    (exact match of the label set), ``per_label`` and ``seconds`` (time spent tagging); plus ``urgent``
    precision/recall when the records carry an urgent flag and ``needs_review_rate``. Records without
    gold labels are only tagged and timed (the score keys are then ``None``).
    """
    records = to_records(records)
    texts = [r.text for r in records]
    from .tokenize import get_jieba

    get_jieba()  # dictionary loading is set-up, not tagging
    t0 = time.perf_counter()
    results = tagger.tag_batch(texts, n_jobs=n_jobs)
    seconds = time.perf_counter() - t0
    out: dict = {"n": len(records), "seconds": round(seconds, 3), "model_version": tagger.version}
    labelled = [(r, res) for r, res in zip(records, results) if r.labels]
    if labelled:
        gold = [r.labels for r, _ in labelled]
        pred = [tuple(res.codes) for _, res in labelled]
        s = multilabel_scores(gold, pred)
        out.update({k: s[k] for k in ("micro_f1", "macro_f1", "accuracy", "per_label")})
        out["micro_precision"] = s["micro_precision"]
        out["micro_recall"] = s["micro_recall"]
        out["n_labelled"] = len(labelled)
    else:
        out.update({"micro_f1": None, "macro_f1": None, "accuracy": None, "per_label": None})
    with_urgent = [(r.urgent, res.urgent) for r, res in zip(records, results) if r.urgent is not None]
    if with_urgent:
        out["urgent"] = _binary_pr([g for g, _ in with_urgent], [p for _, p in with_urgent])
    out["needs_review_rate"] = round(sum(r.needs_review for r in results) / len(results), 4) if results else 0.0
    out["texts_per_second"] = round(len(records) / seconds, 1) if seconds > 0 else None
    return out


# ---------------------------------------------------------------------------- training

def _log(msg: str, verbose: bool) -> None:
    if verbose:
        print(msg, file=sys.stderr, flush=True)


def _prepare_records(records, extra, extra_weight: float) -> list[Record]:
    base = [r for r in to_records(records) if r.labels]
    more = [r for r in to_records(extra or []) if r.labels]
    if more:
        corrected = {r.text for r in more}
        base = [r for r in base if r.text not in corrected]  # a correction overrides the corpus row
        base += [Record(r.text, r.labels, r.urgent, r.weight * extra_weight) for r in more]
    return sorted(base, key=lambda r: (r.text, r.labels, r.urgent is None, bool(r.urgent), r.weight))


def _mode_and_labels(records: list[Record]) -> tuple[str, list[str]]:
    seen = {l for r in records for l in r.labels}
    if seen and seen <= set(THEME_CODES):
        return "themes", list(THEME_CODES)
    labels = sorted(seen)
    if all(len(r.labels) == 1 for r in records):
        return "single", labels
    return "multi", labels


def _tune_thresholds(P: np.ndarray, Y: np.ndarray, tagger_like, bounds) -> np.ndarray:
    """Per-label secondary threshold maximising that label's F1 among out-of-fold decisions."""
    L = Y.shape[1]
    thr = np.full(L, 0.5)
    grid = np.round(np.arange(bounds[0], bounds[1] + 1e-9, 0.05), 3)
    order = np.argsort(-P, axis=1, kind="stable")
    top = order[:, 0]
    for j in range(L):
        if j == tagger_like.other_index:
            continue
        best, best_t = -1.0, 0.5
        # rows where j is not the top label: j is chosen as a secondary label iff p >= t (approximately)
        y = Y[:, j].astype(bool)
        is_top = top == j
        for t in grid:
            pred = is_top | ((P[:, j] >= t) & (top != tagger_like.other_index))
            tp = np.sum(pred & y)
            fp = np.sum(pred & ~y)
            fn = np.sum(~pred & y)
            f = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
            if f > best + 1e-12:
                best, best_t = f, float(t)
        thr[j] = best_t
    return thr


def _tune_min_confidence(P: np.ndarray, support: np.ndarray, recs, labels, decider, bounds) -> float:
    """The top-theme floor (below it: ``other``) with the best out-of-fold micro-F1; the lowest on a tie."""
    gold = [r.labels for r in recs]
    best, best_t = -1.0, 0.0
    for t in np.round(np.arange(bounds[0], bounds[1] + 1e-9, 0.05), 3):
        decider.min_confidence = float(t)
        pred = [tuple(labels[j] for j in decider.decide(P[i], support[i])[0]) for i in range(len(recs))]
        f = multilabel_scores(gold, pred, labels=labels)["micro_f1"]
        if f > best + 1e-12:
            best, best_t = f, float(t)
    return best_t


class _Decider:
    """Enough of a Tagger to run ``Tagger.decide`` on out-of-fold probabilities."""

    decide = Tagger.decide
    _has_evidence = Tagger._has_evidence

    def __init__(self, mode, labels, thresholds, rel, review, max_labels):
        self.mode = mode
        self.labels = labels
        self.thresholds = thresholds
        self.rel_threshold = rel
        self.review_threshold = review
        self.max_labels = max_labels
        self.other_index = labels.index(OTHER) if (mode == "themes" and OTHER in labels) else -1
        self.min_confidence = 0.0
        self.require_word_evidence = False


def train(
    records,
    extra=None,
    params: TrainParams | None = None,
    verbose: bool = False,
    source: str | None = None,
) -> Tagger:
    """Train a tagger.

    ``records``: labelled records (see :func:`to_records`); ``extra``: more records, e.g. staff
    corrections, which replace records with the same text and count ``params.extra_weight`` times.
    When every label is a theme code the model is a theme tagger (1–3 themes, ``other`` alone);
    otherwise it is single-label (every record has one label: argmax) or generic multi-label.
    """
    p = params or TrainParams()
    t_start = time.perf_counter()
    recs = _prepare_records(records, extra, p.extra_weight)
    if len(recs) < 2:
        raise ValueError("need at least 2 labelled records to train")
    mode, labels = _mode_and_labels(recs)
    li = {l: i for i, l in enumerate(labels)}
    n, L = len(recs), len(labels)
    Y = np.zeros((n, L), dtype=np.int8)
    for i, r in enumerate(recs):
        for l in r.labels:
            Y[i, li[l]] = 1
    weight = np.array([r.weight for r in recs], dtype=np.float64)
    weight_arg = None if np.all(weight == 1.0) else weight
    dhash = data_hash(recs)
    _log(f"training on {n} records, {L} labels, mode={mode}", verbose)

    docs = [make_doc(r.text) for r in recs]
    fs = FeatureSpace(
        word_bigrams=p.word_bigrams, char_n=p.char_n, lead_n=p.lead_n, min_df=p.min_df, weights=p.block_weights
    ).fit(docs)
    X = fs.transform(docs)
    _log(f"features: {fs.dim}", verbose)

    # out-of-fold scores for calibration, thresholds and the reported cross-validated scores
    k = max(2, min(p.folds, n))
    folds = fold_ids([r.text for r in recs], k)
    oof = np.zeros((n, L))
    # what the words add to each out-of-fold score: known words, and known parts of unknown ones (word_evidence)
    has_words = "w" in fs.offsets
    w0, w1 = (fs.offsets["w"], fs.offsets["w"] + len(fs.idf["w"])) if has_words else (0, 0)
    X_parts = fs.transform_block("w", [Doc(d.text, known_parts(d.words, fs.word_vocab)) for d in docs]) if has_words else None
    oof_words, oof_parts = np.zeros((n, L)), np.zeros((n, L))
    for f in range(k):
        tr, te = np.where(folds != f)[0], np.where(folds == f)[0]
        if len(te) == 0 or len(tr) == 0:
            continue
        Wf, bf = fit_ovr(X[tr], Y[tr], p.linear, None if weight_arg is None else weight_arg[tr])
        oof[te] = X[te] @ Wf + bf
        if has_words:
            oof_words[te] = X[te][:, w0:w1] @ Wf[w0:w1]
            oof_parts[te] = X_parts[te] @ Wf[w0:w1]
        _log(f"fold {f + 1}/{k}", verbose)
    platt = [platt_fit(oof[:, j], Y[:, j]) for j in range(L)]
    a = np.array([x[0] for x in platt])
    c = np.array([x[1] for x in platt])
    P = platt_apply(oof, a, c)
    top = np.argmax(P, axis=1)
    weak = oof_words[np.arange(n), top] <= 0
    oof_words[weak] = oof_parts[weak]

    decider = _Decider(mode, labels, np.full(L, 0.5), p.rel_threshold, p.review_threshold, MAX_THEMES)
    if mode != "single":
        if p.secondary_threshold is None:
            decider.thresholds = _tune_thresholds(P, Y, decider, p.threshold_bounds)
        else:
            decider.thresholds = np.full(L, float(p.secondary_threshold))
    if mode == "themes":
        decider.require_word_evidence = p.require_word_evidence and decider.other_index >= 0 and has_words
        decider.min_confidence = (_tune_min_confidence(P, oof_words, recs, labels, decider, p.min_confidence_bounds)
                                  if p.min_confidence is None else float(p.min_confidence))
    pred = [tuple(labels[j] for j in decider.decide(P[i], oof_words[i])[0]) for i in range(n)]
    cv = multilabel_scores([r.labels for r in recs], pred, labels=labels)
    cv_summary = {key: cv[key] for key in ("micro_f1", "macro_f1", "accuracy")}
    cv_summary["folds"] = k
    cv_summary["per_label_f1"] = {l: cv["per_label"][l]["f1"] for l in labels}
    _log(f"cross-validated: {cv_summary['micro_f1']=} {cv_summary['macro_f1']=}", verbose)

    W, b = fit_ovr(X, Y, p.linear, weight_arg)

    # urgent head: learned from the records' urgent flags, combined with the rules at tagging time
    urgent_state = None
    urgent_cv = None
    u = np.array([r.urgent if r.urgent is not None else False for r in recs])
    has_u = np.array([r.urgent is not None for r in recs])
    if has_u.sum() >= 0.5 * n and u.sum() >= p.urgent_min_positives:
        urgent_state, urgent_cv = _train_urgent(X, docs, u, has_u, folds, k, p, weight_arg)
        _log(f"urgent head: {urgent_cv}", verbose)

    created = os.environ.get("SOURCE_DATE_EPOCH")
    created_ts = float(created) if created else time.time()
    param_blob = json.dumps(_params_dict(p), sort_keys=True, ensure_ascii=False)
    version = "m" + hashlib.sha256((dhash + param_blob + str(FORMAT_VERSION)).encode()).hexdigest()[:12]
    metadata = {
        "version": version,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created_ts)),
        "mode": mode,
        "labels": labels,
        "data_hash": dhash,
        "n_records": n,
        "n_extra": len(to_records(extra or [])),
        "label_counts": {l: int(Y[:, li[l]].sum()) for l in labels},
        "source": source,
        "params": json.loads(param_blob),
        "scores": {"cv": cv_summary, "urgent_cv": urgent_cv},
        "feature_dim": fs.dim,
        "train_seconds": round(time.perf_counter() - t_start, 2),
        "libraries": _library_versions(),
    }
    state = {
        "format": FORMAT_VERSION,
        "version": version,
        "mode": mode,
        "labels": labels,
        "features": fs.get_state(),
        "W": W.astype(np.float32),
        "b": b.astype(np.float32),
        "platt_a": a,
        "platt_c": c,
        "thresholds": decider.thresholds,
        "rel_threshold": p.rel_threshold,
        "review_threshold": p.review_threshold,
        "max_labels": MAX_THEMES,
        "min_confidence": decider.min_confidence,
        "require_word_evidence": decider.require_word_evidence,
        "urgent": urgent_state,
        "metadata": metadata,
    }
    return Tagger(state)


def _train_urgent(X, docs, u, has_u, folds, k, p: TrainParams, weight):
    from .urgent import is_urgent

    idx = np.where(has_u)[0]
    Xu, yu = X[idx], u[idx].astype(np.int8)[:, None]
    wu = None if weight is None else weight[idx]
    fu = folds[idx]
    oof = np.zeros(len(idx))
    for f in range(k):
        tr, te = np.where(fu != f)[0], np.where(fu == f)[0]
        if len(te) == 0 or yu[tr].sum() == 0:
            continue
        Wf, bf = fit_ovr(Xu[tr], yu[tr], p.linear, None if wu is None else wu[tr])
        oof[te] = np.asarray(Xu[te] @ Wf).ravel() + bf[0]
    ua, uc = platt_fit(oof, yu[:, 0])
    pu = platt_apply(oof, ua, uc)
    rules = np.array([is_urgent(docs[i].text, normalized=True) for i in idx])
    y = yu[:, 0].astype(bool)
    best = (-1.0, 0.5, 0.5)
    for hi in np.arange(0.3, 0.95, 0.05):
        for lo in np.arange(0.0, min(hi, p.urgent_max_veto) + 1e-9, 0.05):
            pred = (pu >= hi) | (rules & (pu >= lo))
            tp = np.sum(pred & y)
            fp = np.sum(pred & ~y)
            fn = np.sum(~pred & y)
            f = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
            if f > best[0] + 1e-12:
                best = (f, float(round(hi, 2)), float(round(lo, 2)))
    f1, hi, lo = best
    pred = (pu >= hi) | (rules & (pu >= lo))
    cv = _binary_pr(list(y), list(pred))
    cv["rules_only"] = _binary_pr(list(y), list(rules))
    Wu, bu = fit_ovr(Xu, yu, p.linear, wu)
    state = {"w": Wu[:, 0].astype(np.float32), "b": float(bu[0]), "a": ua, "c": uc, "threshold": hi, "rule_threshold": lo}
    return state, cv


def _params_dict(p: TrainParams) -> dict:
    d = asdict(p)
    d["threshold_bounds"] = list(p.threshold_bounds)
    d["min_confidence_bounds"] = list(p.min_confidence_bounds)
    return d


def _library_versions() -> dict:
    import jieba
    import scipy
    import sklearn

    return {"numpy": np.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__, "jieba": jieba.__version__}
