"""One-vs-rest linear learners combined into one weight matrix, and Platt calibration.

For every label three linear models are trained on the same TF-IDF features:

``svm``   ``LinearSVC`` (squared hinge, L2);
``nbsvm`` ``LinearSVC`` on features scaled by the label's naive-Bayes log-count ratio (Wang & Manning 2012);
``lr``    ``LogisticRegression`` (liblinear).

Each model's scores are divided by their standard deviation on the training data and the three are
averaged. As every part is linear, the ensemble collapses into one weight vector and bias per label, so
tagging costs a single sparse × dense product. Probabilities come from Platt scaling fitted on
out-of-fold scores. Everything is deterministic (fixed ``random_state``, fixed folds).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

__all__ = ["LinearParams", "fit_ovr", "platt_fit", "platt_apply", "fold_ids"]


@dataclass
class LinearParams:
    members: tuple[str, ...] = ("svm", "nbsvm")
    C_svm: float = 1.0
    C_nbsvm: float = 0.3
    C_lr: float = 30.0
    nb_alpha: float = 1.0
    class_weight: str | None = None  # None or "balanced"
    max_iter: int = 5000
    extra: dict = field(default_factory=dict)


def _sample_weight(y: np.ndarray, class_weight: str | None) -> np.ndarray | None:
    if class_weight != "balanced":
        return None
    pos = y.sum()
    neg = len(y) - pos
    if pos == 0 or neg == 0:
        return None
    w = np.where(y == 1, len(y) / (2.0 * pos), len(y) / (2.0 * neg))
    return w


def _fit_binary(
    X: sp.csr_matrix, y: np.ndarray, p: LinearParams, Xbin: sp.csr_matrix, weight: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """Combined (w, b) of the ensemble for one binary label."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    d = X.shape[1]
    if y.min() == y.max():  # a label present in every or no row: constant score
        return np.zeros(d, dtype=np.float64), (5.0 if y[0] == 1 else -5.0)
    sw = _sample_weight(y, p.class_weight)
    if weight is not None:
        sw = weight if sw is None else sw * weight
    parts = []
    for member in p.members:
        if member == "svm":
            m = LinearSVC(C=p.C_svm, max_iter=p.max_iter, random_state=0)
            m.fit(X, y, sample_weight=sw)
            w, b = m.coef_.ravel().astype(np.float64), float(m.intercept_[0])
        elif member == "nbsvm":
            wb = Xbin if weight is None else sp.diags(weight) @ Xbin
            pos = np.asarray(wb[y == 1].sum(axis=0)).ravel() + p.nb_alpha
            neg = np.asarray(wb[y == 0].sum(axis=0)).ravel() + p.nb_alpha
            r = np.log((pos / pos.sum()) / (neg / neg.sum()))
            m = LinearSVC(C=p.C_nbsvm, max_iter=p.max_iter, random_state=0)
            m.fit(X @ sp.diags(r), y, sample_weight=sw)
            w, b = m.coef_.ravel() * r, float(m.intercept_[0])
        elif member == "lr":
            m = LogisticRegression(C=p.C_lr, solver="liblinear", max_iter=p.max_iter, random_state=0)
            m.fit(X, y, sample_weight=sw)
            w, b = m.coef_.ravel().astype(np.float64), float(m.intercept_[0])
        else:  # pragma: no cover - configuration error
            raise ValueError(f"unknown member {member!r}")
        s = X @ w + b
        scale = float(np.std(s)) or 1.0
        parts.append((w / scale, b / scale))
    w = sum(pw for pw, _ in parts) / len(parts)
    b = sum(pb for _, pb in parts) / len(parts)
    return w, b


def fit_ovr(
    X: sp.csr_matrix, Y: np.ndarray, p: LinearParams, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Weights ``W`` (d × L) and biases ``b`` (L) of the one-vs-rest ensemble (``weight``: per row)."""
    X = sp.csr_matrix(X, dtype=np.float64)
    Xbin = X.copy()
    Xbin.data[:] = 1.0
    L = Y.shape[1]
    W = np.zeros((X.shape[1], L), dtype=np.float64)
    b = np.zeros(L, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # liblinear convergence chatter
        for j in range(L):
            W[:, j], b[j] = _fit_binary(X, Y[:, j].astype(np.int64), p, Xbin, weight)
    return W, b


def fold_ids(keys: list[str], k: int) -> np.ndarray:
    """Deterministic fold of each row from a stable hash of its key (text)."""
    import zlib

    return np.array([zlib.crc32(key.encode("utf-8")) % k for key in keys], dtype=np.int64)


def platt_fit(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Sigmoid ``1 / (1 + exp(-(a*s + c)))`` fitted to (score, 0/1) pairs with Platt's target smoothing."""
    y = y.astype(np.float64)
    n_pos = y.sum()
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return 1.0, (4.0 if n_pos else -4.0)
    t = np.where(y > 0, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    a, c = 1.0, 0.0
    # Newton's method on the logistic loss (2 parameters), with a small ridge for stability
    for _ in range(100):
        z = np.clip(a * scores + c, -30, 30)
        p = 1.0 / (1.0 + np.exp(-z))
        g_a = np.dot(p - t, scores) + 1e-6 * a
        g_c = np.sum(p - t)
        wgt = p * (1 - p) + 1e-12
        h_aa = np.dot(wgt, scores * scores) + 1e-6
        h_ac = np.dot(wgt, scores)
        h_cc = wgt.sum() + 1e-12
        det = h_aa * h_cc - h_ac * h_ac
        if det <= 0:
            break
        da = (h_cc * g_a - h_ac * g_c) / det
        dc = (h_aa * g_c - h_ac * g_a) / det
        a -= da
        c -= dc
        if abs(da) < 1e-9 and abs(dc) < 1e-9:
            break
    return float(a), float(c)


def platt_apply(scores: np.ndarray, a: np.ndarray, c: np.ndarray) -> np.ndarray:
    z = np.clip(scores * a + c, -30, 30)
    return 1.0 / (1.0 + np.exp(-z))
