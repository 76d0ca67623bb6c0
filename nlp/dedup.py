"""Near-duplicate finder for repeated complaints (并单建议).

Texts are normalised (boilerplate, phone numbers and greetings removed) and represented by their character
2- and 3-gram shingles, TF-IDF weighted and L2-normalised; similarity is the cosine. Shingles are int64
keys computed with numpy, so fitting tens of thousands of texts takes a second or two and a query is one
sparse matrix–vector product.

>>> f = NearDuplicateFinder().fit([(1, "幸福里小区3号楼下水道堵了，污水漫到单元门口"), (2, "小区广场舞噪音太大")])
>>> [i for i, s in f.similar("幸福里小区3号楼的下水道又堵了，污水都漫到单元门口了")]
[1]
"""
from __future__ import annotations

from typing import Hashable, Iterable

import numpy as np
import scipy.sparse as sp

from .features import KeyIndex, char_keys, unique_sorted
from .tokenize import prepare

__all__ = ["NearDuplicateFinder", "DEFAULT_THRESHOLD"]

DEFAULT_THRESHOLD = 0.5


class NearDuplicateFinder:
    """Fit on ``(id, text)`` pairs; ``similar(text)`` returns ``[(id, score), ...]`` best first."""

    def __init__(self, ngram: tuple[int, int] = (2, 3), max_chars: int = 2000):
        self.lo, self.hi = ngram
        self.max_chars = max_chars
        self.ids: list[Hashable] = []
        self.X: sp.csr_matrix | None = None
        self._index: KeyIndex | None = None
        self._keys = np.zeros(0, np.int64)
        self._idf = np.zeros(0, np.float32)
        self._n = 0

    def _raw(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        prepared = [prepare(t, self.max_chars) for t in texts]
        keys, rows = char_keys(prepared, self.hi)
        if self.lo > 1 and len(keys):
            keep = keys >= (1 << 21) if self.lo == 2 else keys >= (1 << 42)
            keys, rows = keys[keep], rows[keep]
        return keys, rows

    def _matrix(self, keys: np.ndarray, rows: np.ndarray, n: int) -> sp.csr_matrix:
        ids = self._index.lookup(keys) if self._index is not None else np.full(len(keys), -1)
        ok = ids >= 0
        X = sp.csr_matrix(
            (np.ones(int(ok.sum()), np.float32), (rows[ok], ids[ok])), shape=(n, len(self._keys))
        )
        X.sum_duplicates()
        X.data = (np.log(X.data) + 1.0) * self._idf[X.indices]
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sp.csr_matrix(sp.diags(1.0 / norms.astype(np.float32)) @ X, dtype=np.float32)

    def fit(self, items: Iterable[tuple[Hashable, str]]) -> "NearDuplicateFinder":
        items = list(items)
        self.ids = [i for i, _ in items]
        texts = [t or "" for _, t in items]
        self._n = n = len(texts)
        keys, rows = self._raw(texts)
        uk, inv = unique_sorted(keys, return_inverse=True)
        m = max(len(uk), 1)
        df = np.bincount(unique_sorted(rows * m + inv) % m, minlength=len(uk)) if len(uk) else np.zeros(0)
        self._keys = uk
        self._idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
        self._index = KeyIndex(uk) if len(uk) else None
        self.X = self._matrix(keys, rows, n)
        return self

    def __len__(self) -> int:
        return self._n

    def similar(
        self, text: str, threshold: float = DEFAULT_THRESHOLD, limit: int = 10, exclude: Hashable | None = None
    ) -> list[tuple[Hashable, float]]:
        """Fitted items whose cosine similarity to ``text`` is ≥ ``threshold``, best first (at most ``limit``)."""
        if self.X is None or not self._n or not text:
            return []
        keys, rows = self._raw([text])
        q = self._matrix(keys, rows, 1)
        if q.nnz == 0:
            return []
        s = np.asarray((self.X @ q.T).todense()).ravel()
        cand = np.where(s >= threshold)[0]
        order = cand[np.lexsort((cand, -s[cand]))]
        out = []
        for i in order:
            if exclude is not None and self.ids[i] == exclude:
                continue
            out.append((self.ids[i], round(float(min(s[i], 1.0)), 4)))
            if len(out) >= limit:
                break
        return out

    def pairs(self, threshold: float = DEFAULT_THRESHOLD, block: int = 2000) -> list[tuple[Hashable, Hashable, float]]:
        """All pairs among the fitted items with similarity ≥ ``threshold`` (best first)."""
        if self.X is None or self._n < 2:
            return []
        out = []
        XT = self.X.T.tocsr()
        for start in range(0, self._n, block):
            S = (self.X[start : start + block] @ XT).tocoo()
            m = (S.data >= threshold) & (S.row + start < S.col)
            for r, c, v in zip(S.row[m], S.col[m], S.data[m]):
                out.append((self.ids[r + start], self.ids[c], round(float(min(v, 1.0)), 4)))
        out.sort(key=lambda x: -x[2])
        return out

    def groups(self, threshold: float = DEFAULT_THRESHOLD) -> list[list[Hashable]]:
        """Clusters (connected components, size ≥ 2) of near-duplicates: merge suggestions."""
        parent = list(range(self._n))
        pos = {i: k for k, i in enumerate(self.ids)}

        def find(a):
            while parent[a] != a:
                parent[a] = parent[parent[a]]
                a = parent[a]
            return a

        for a, b, _ in self.pairs(threshold):
            ra, rb = find(pos[a]), find(pos[b])
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
        comps: dict[int, list] = {}
        for k in range(self._n):
            comps.setdefault(find(k), []).append(self.ids[k])
        return [g for g in comps.values() if len(g) > 1]
