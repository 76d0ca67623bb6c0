"""Tagging speed on the teddy7 texts (../shared/data/teddy7.csv, every row, read in place).

    .venv/bin/python bench/nlp_speed.py [--rounds 3]

1. One process: throughput of the full tag (normalise, strip boilerplate, jieba, features, classify,
   urgent) with ``Tagger.tag_batch(texts, n_jobs=1)`` against jieba tokenisation alone on the same raw
   texts (the project's jieba instance with the user dictionary and the same HMM setting, i.e. exactly
   the segmenter the tagger uses). Goal: ratio >= 0.8.
2. Every core: ``tag_batch(texts)`` (a process pool over every core) against the single-process run.
   Goal: >= 1.6x on 2 cores.

The tagger segments with ``nlp.tokenize.segment``, which returns exactly what jieba returns but walks
jieba's DAG faster, so the full tag can beat jieba alone; the segmenter's own throughput is printed too,
so that the cost of everything after segmentation stays visible.

The machine may be shared, so every measurement is repeated (interleaved) and the best and the median
round are printed; a pure-Python CPU probe (the same busy loop in 1 and in N processes) shows how much
parallel capacity the machine actually had while the benchmark ran.
"""
from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _burn(n: int) -> float:
    t0 = time.perf_counter()
    s = 0
    for i in range(n):
        s += i
    return time.perf_counter() - t0


def cpu_probe(cores: int, n: int = 8_000_000) -> float:
    """Effective parallel capacity right now: cores * t(1 loop) / t(cores loops in parallel)."""
    one = _burn(n)
    with mp.get_context("fork").Pool(cores) as pool:
        pool.map(_burn, [1000] * cores)  # start-up out of the measurement
        t0 = time.perf_counter()
        pool.map(_burn, [n] * cores)
        many = time.perf_counter() - t0
    return cores * one / many


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    from nlp.tagger import default_model_path, load_model
    from nlp.tokenize import HMM, get_jieba, segment

    with open(DATA / "teddy7.csv", encoding="utf-8", newline="") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    chars = sum(len(t) for t in texts)
    cores = os.cpu_count() or 1
    path = Path(default_model_path())
    if not path.exists():
        print(f"{path} is missing: build it with .venv/bin/python -m nlp train --out {path}")
        return 2
    tagger = load_model(path)
    jb = get_jieba()
    tagger.tag_batch(texts[:200], n_jobs=1)  # warm-up: model, dictionary, caches
    for t in texts[:200]:
        jb.lcut(t, HMM=HMM)
    print(f"{len(texts)} teddy7 texts, {chars / len(texts):.0f} characters on average; model {tagger.version}; "
          f"{cores} cores")

    def jieba_only():
        for t in texts:
            jb.lcut(t, HMM=HMM)

    def segment_only():
        for t in texts:
            segment(t)

    def tag_single():
        tagger.tag_batch(texts, n_jobs=1)

    def tag_all_cores():
        tagger.tag_batch(texts, n_jobs=None)

    rounds: dict[str, list[float]] = {"jieba": [], "segment": [], "tag1": [], "tagN": [], "probe": []}
    for r in range(args.rounds):
        rounds["probe"].append(cpu_probe(cores))
        rounds["jieba"].append(timed(jieba_only))
        rounds["segment"].append(timed(segment_only))
        rounds["tag1"].append(timed(tag_single))
        rounds["tagN"].append(timed(tag_all_cores))
        print(f"round {r + 1}: jieba {len(texts) / rounds['jieba'][-1]:6.0f}/s   segment {len(texts) / rounds['segment'][-1]:6.0f}/s"
              f"   tag 1 process "
              f"{len(texts) / rounds['tag1'][-1]:6.0f}/s   tag {cores} processes {len(texts) / rounds['tagN'][-1]:6.0f}/s"
              f"   CPU probe {rounds['probe'][-1]:.2f} of {cores} cores")

    def rate(key, pick):
        return len(texts) / pick(rounds[key])

    for label, pick in (("best", min), ("median", statistics.median)):
        j, t1, tn = rate("jieba", pick), rate("tag1", pick), rate("tagN", pick)
        print(f"{label:6s}: jieba alone {j:.0f} texts/s, full tag {t1:.0f} texts/s -> ratio {t1 / j:.2f} (goal >= 0.8); "
              f"{cores} cores {tn:.0f} texts/s -> {tn / t1:.2f}x single-core (goal >= 1.6x on 2 cores)")
        sg = rate("segment", pick)
        print(f"        segmenter alone {sg:.0f} texts/s ({sg / j:.2f}x jieba); full tag / segmenter {t1 / sg:.2f}")
    print(f"CPU probe (parallel capacity available): best {max(rounds['probe']):.2f}, "
          f"median {statistics.median(rounds['probe']):.2f} of {cores} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
