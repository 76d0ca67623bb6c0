"""TF-IDF feature space over jieba words, character n-grams and the lead sentence.

Three blocks, each TF-IDF weighted (sublinear tf, smooth idf), L2-normalised and scaled by a block weight,
then concatenated:

``w``  jieba words (optionally also word bigrams) of the whole text;
``c``  character 1..n-grams inside runs of Chinese characters;
``t``  character 1..n-grams of the lead (title / first sentence), which states the theme of a long post.

This is a small re-write of ``TfidfVectorizer`` for speed: the words come already segmented (they are
computed once per text and shared with other analyses) and the character n-grams of a whole batch are
computed with numpy on code points (an n-gram is an int64 key, looked up by binary search in the sorted
vocabulary), so that featurising costs a fraction of the jieba segmentation it follows.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np
import scipy.sparse as sp

from .tokenize import prepare, words

__all__ = ["Doc", "make_doc", "make_docs", "lead_of", "FeatureSpace", "KeyIndex", "char_keys", "key_to_str", "unique_sorted"]

_LEAD_END = re.compile(r"[。!?！？\n]")


def lead_of(prepared: str, max_chars: int = 60, fallback: int = 40) -> str:
    """The first sentence (up to ``max_chars``) of a prepared text, else its first ``fallback`` characters."""
    m = _LEAD_END.search(prepared, 0, max_chars + 1)
    if m and m.start() >= 4:
        return prepared[: m.start()]
    return prepared[:fallback]


@dataclass
class Doc:
    """A text prepared once for every analysis: the prepared string and its words."""

    text: str
    words: list[str] = field(default_factory=list)


def make_doc(raw: str | None) -> Doc:
    prepared = prepare(raw)
    return Doc(prepared, words(prepared))


def make_docs(raws) -> list[Doc]:
    return [make_doc(r) for r in raws]


def unique_sorted(x: np.ndarray, return_inverse: bool = False, return_counts: bool = False):
    """``np.unique`` by sorting (numpy 2's hash-based path is much slower on large int64 arrays)."""
    x = np.asarray(x)
    if return_inverse:
        order = np.argsort(x, kind="stable")
        xs = x[order]
    else:
        xs = np.sort(x)
        order = None
    if len(xs) == 0:
        flag = np.zeros(0, dtype=bool)
    else:
        flag = np.empty(len(xs), dtype=bool)
        flag[0] = True
        np.not_equal(xs[1:], xs[:-1], out=flag[1:])
    u = xs[flag]
    out = [u]
    if return_inverse:
        inv = np.empty(len(x), dtype=np.int64)
        inv[order] = np.cumsum(flag) - 1
        out.append(inv)
    if return_counts:
        idx = np.flatnonzero(flag)
        out.append(np.diff(np.append(idx, len(xs))))
    return out[0] if len(out) == 1 else tuple(out)


# ----------------------------------------------------------------------------- character n-gram keys

_SHIFT = np.int64(21)  # code points < 2**21


def _is_cjk(cp: np.ndarray) -> np.ndarray:
    return ((cp >= 0x3400) & (cp <= 0x9FFF)) | ((cp >= 0xF900) & (cp <= 0xFAFF))


def char_keys(texts: list[str], n_max: int) -> tuple[np.ndarray, np.ndarray]:
    """int64 keys of the character 1..n_max-grams inside CJK runs of every text, and their row numbers."""
    if not texts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    joined = "\x00".join(texts)
    cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
    row = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)[: len(cp)]
    cjk = _is_cjk(cp)
    keys = [cp[cjk]]
    rows = [row[cjk]]
    L = len(cp)
    for n in range(2, n_max + 1):
        if L < n:
            break
        m = cjk[: L - n + 1].copy()
        k = cp[: L - n + 1] + 1
        for j in range(1, n):
            m &= cjk[j : L - n + 1 + j]
            k = (k << _SHIFT) | cp[j : L - n + 1 + j]
        keys.append(k[m])
        rows.append(row[: L - n + 1][m])
    return np.concatenate(keys), np.concatenate(rows)


def key_to_str(key: int) -> str:
    """Inverse of the n-gram key encoding (for inspection)."""
    key = int(key)
    chars = []
    while True:
        if key < (1 << 21):
            chars.append(chr(key - (1 if chars else 0)))
            break
        chars.append(chr(key & ((1 << 21) - 1)))
        key >>= 21
    return "".join(reversed(chars))


# ----------------------------------------------------------------------------- feature space

class KeyIndex:
    """Vectorised int64 key → position lookup (open addressing, linear probing) over a fixed key set."""

    _MULT = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, keys: np.ndarray):
        keys = np.asarray(keys, dtype=np.int64)
        bits = max(10, int(np.ceil(np.log2(max(len(keys), 1) * 4))))
        self.shift = np.uint64(64 - bits)
        self.mask = np.int64((1 << bits) - 1)
        self.table_keys = np.full(1 << bits, -1, dtype=np.int64)
        self.table_vals = np.full(1 << bits, -1, dtype=np.int64)
        h = self._hash(keys)
        pending = np.arange(len(keys))
        probe = 0
        while len(pending):
            slot = (h[pending] + probe) & self.mask
            free = self.table_keys[slot] == -1
            cand, cslot = pending[free], slot[free]
            uslot, first = np.unique(cslot, return_index=True)  # small
            placed = cand[first]
            self.table_keys[uslot] = keys[placed]
            self.table_vals[uslot] = placed
            done = np.zeros(len(keys), dtype=bool)
            done[placed] = True
            pending = pending[~done[pending]]
            probe += 1
        self.max_probe = probe

    def _hash(self, keys: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return ((keys.astype(np.uint64) * self._MULT) >> self.shift).astype(np.int64)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Position of each key in the original key array, -1 when absent."""
        out = np.full(len(keys), -1, dtype=np.int64)
        if not len(keys):
            return out
        h = self._hash(keys)
        pending = np.arange(len(keys))
        for probe in range(self.max_probe + 1):
            slot = (h[pending] + probe) & self.mask
            tk = self.table_keys[slot]
            q = keys[pending]
            hit = tk == q
            out[pending[hit]] = self.table_vals[slot[hit]]
            pending = pending[(~hit) & (tk != -1)]
            if not len(pending):
                break
        return out


class FeatureSpace:
    """Fit on a list of :class:`Doc`; ``transform`` returns an ``n × dim`` float32 CSR matrix."""

    BLOCKS = ("w", "c", "t")

    def __init__(
        self,
        word_bigrams: bool = False,
        char_n: int = 2,
        lead_n: int = 2,
        min_df: int = 2,
        max_df: float = 1.0,
        weights: dict[str, float] | None = None,
    ):
        self.word_bigrams = word_bigrams
        self.char_n = char_n
        self.lead_n = lead_n
        self.min_df = min_df
        self.max_df = max_df
        self.weights = dict(weights or {"w": 1.0, "c": 1.0, "t": 1.0})
        self.word_vocab: dict[str, int] = {}
        self.char_vocab: dict[str, np.ndarray] = {}  # block -> sorted int64 keys
        self.idf: dict[str, np.ndarray] = {}
        self.offsets: dict[str, int] = {}
        self.dim = 0
        self._indexes: dict[str, KeyIndex] = {}

    def active_blocks(self) -> list[str]:
        return [b for b in self.BLOCKS if self.weights.get(b, 0) > 0]

    # ------------------------------------------------------------------ raw (term, row) pairs
    def _word_terms(self, docs: list[Doc]) -> tuple[list[str], np.ndarray]:
        flat: list[str] = []
        lengths = []
        for d in docs:
            w = d.words
            if self.word_bigrams and len(w) > 1:
                w = w + list(map(" ".join, zip(w, w[1:])))
            flat.extend(w)
            lengths.append(len(w))
        rows = np.repeat(np.arange(len(docs), dtype=np.int64), np.asarray(lengths, dtype=np.int64))
        return flat, rows

    def _char_terms(self, block: str, docs: list[Doc]) -> tuple[np.ndarray, np.ndarray]:
        if block == "c":
            return char_keys([d.text for d in docs], self.char_n)
        return char_keys([lead_of(d.text) for d in docs], self.lead_n)

    # ------------------------------------------------------------------ fit
    def _keep(self, df: np.ndarray, n: int) -> np.ndarray:
        max_df = self.max_df * n if isinstance(self.max_df, float) else self.max_df
        return (df >= self.min_df) & (df <= max_df)

    def fit(self, docs: list[Doc]) -> "FeatureSpace":
        n = len(docs)
        offset = 0
        self.word_vocab, self.char_vocab, self.idf, self.offsets = {}, {}, {}, {}
        self._indexes = {}
        for block in self.active_blocks():
            if block == "w":
                flat, rows = self._word_terms(docs)
                terms = sorted(set(flat))
                tid = {t: i for i, t in enumerate(terms)}
                ids = np.fromiter(map(tid.__getitem__, flat), dtype=np.int64, count=len(flat))
                pairs = unique_sorted(rows * len(terms) + ids) if len(ids) else ids
                df = np.bincount(pairs % max(len(terms), 1), minlength=len(terms)) if len(terms) else np.zeros(0)
                keep = self._keep(df, n)
                kept = [t for t, k in zip(terms, keep) if k]
                self.word_vocab = {t: i for i, t in enumerate(kept)}
                df = df[keep]
            else:
                keys, rows = self._char_terms(block, docs)
                uk, inv = unique_sorted(keys, return_inverse=True)
                pairs = unique_sorted(rows * len(uk) + inv) if len(uk) else inv
                df = np.bincount(pairs % max(len(uk), 1), minlength=len(uk)) if len(uk) else np.zeros(0)
                keep = self._keep(df, n)
                self.char_vocab[block] = uk[keep]
                df = df[keep]
            self.idf[block] = (np.log((1.0 + n) / (1.0 + df.astype(np.float64))) + 1.0).astype(np.float32)
            self.offsets[block] = offset
            offset += len(df)
        self.dim = offset
        return self

    # ------------------------------------------------------------------ transform
    def _block_matrix(self, block: str, docs: list[Doc]) -> sp.csr_matrix:
        n = len(docs)
        size = len(self.idf[block])
        if block == "w":
            flat, rows = self._word_terms(docs)
            ids = np.fromiter(map(self.word_vocab.get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
        else:
            keys, rows = self._char_terms(block, docs)
            ids = self._index(block).lookup(keys)
        found = ids >= 0
        pair = rows[found] * size + ids[found]
        upair, counts = unique_sorted(pair, return_counts=True)
        urow = upair // max(size, 1)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(urow, minlength=n), out=indptr[1:])
        X = sp.csr_matrix(
            (counts.astype(np.float32), (upair - urow * size).astype(np.int32), indptr), shape=(n, size)
        )
        data = X.data
        np.log(data, out=data)
        data += np.float32(1.0)
        data *= self.idf[block][X.indices]
        ptr = X.indptr
        row_len = np.diff(ptr)
        nz = row_len > 0
        if len(data):
            sq = np.add.reduceat(data * data, ptr[:-1][nz])
            scale = np.zeros(n, dtype=np.float32)
            scale[nz] = np.float32(self.weights[block]) / np.sqrt(sq)
            data *= np.repeat(scale, row_len)
        return X

    def transform_block(self, block: str, docs: list[Doc]) -> sp.csr_matrix:
        """One block's columns only (``n × block size``), weighted as in :meth:`transform`."""
        return self._block_matrix(block, docs)

    def _index(self, block: str) -> KeyIndex:
        idx = self._indexes.get(block)
        if idx is None:
            idx = self._indexes[block] = KeyIndex(self.char_vocab[block])
        return idx

    def transform(self, docs: list[Doc]) -> sp.csr_matrix:
        n = len(docs)
        blocks = [self._block_matrix(b, docs) for b in self.active_blocks()]
        if not blocks:
            return sp.csr_matrix((n, self.dim), dtype=np.float32)
        X = sp.hstack(blocks, format="csr", dtype=np.float32)
        return X

    def fit_transform(self, docs: list[Doc]) -> sp.csr_matrix:
        return self.fit(docs).transform(docs)

    # ------------------------------------------------------------------ (de)serialisation
    def get_state(self) -> dict:
        return {
            "word_bigrams": self.word_bigrams,
            "char_n": self.char_n,
            "lead_n": self.lead_n,
            "min_df": self.min_df,
            "max_df": self.max_df,
            "weights": self.weights,
            "word_vocab": list(self.word_vocab.keys()),
            "char_vocab": self.char_vocab,
            "idf": self.idf,
            "offsets": self.offsets,
            "dim": self.dim,
        }

    @classmethod
    def from_state(cls, state: dict) -> "FeatureSpace":
        fs = cls(
            word_bigrams=state["word_bigrams"],
            char_n=state["char_n"],
            lead_n=state["lead_n"],
            min_df=state["min_df"],
            max_df=state["max_df"],
            weights=state["weights"],
        )
        fs.word_vocab = {t: i for i, t in enumerate(state["word_vocab"])}
        fs.char_vocab = state["char_vocab"]
        fs.idf = state["idf"]
        fs.offsets = state["offsets"]
        fs.dim = state["dim"]
        return fs

    def feature_names(self) -> list[str]:
        names = [""] * self.dim
        for b in self.active_blocks():
            off = self.offsets[b]
            if b == "w":
                for t, i in self.word_vocab.items():
                    names[off + i] = f"w:{t}"
            else:
                for i, k in enumerate(self.char_vocab[b]):
                    names[off + i] = f"{b}:{key_to_str(k)}"
        return names
