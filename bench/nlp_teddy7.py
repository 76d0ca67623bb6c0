"""Public benchmark: train on teddy7.csv split ``train`` (label mode), evaluate on split ``test``.

    .venv/bin/python bench/nlp_teddy7.py

Reads ../shared/data/teddy7.csv in place (never copied into the project); the model goes to a temp dir.
Goal: macro-F1 >= 0.92 (plain jieba + TF-IDF word 1-2-grams + LinearSVC: accuracy 0.911, macro-F1 0.901).
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> int:
    from nlp.tagger import load_model
    from nlp.training import evaluate, load_labelled_csv, train

    path = DATA / "teddy7.csv"
    train_recs = load_labelled_csv(path, split="train")
    test_recs = load_labelled_csv(path, split="test")
    print(f"teddy7: {len(train_recs)} train, {len(test_recs)} test rows")
    t0 = time.perf_counter()
    tagger = train(train_recs, source="teddy7.csv split=train")
    train_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="minsheng-teddy7-") as tmp:
        saved = load_model(tagger.save(Path(tmp) / "teddy7.joblib"), cache=False)  # what the CLI would use
        result = evaluate(saved, test_recs, n_jobs=1)
    cv = tagger.metadata["scores"]["cv"]
    print(f"model {tagger.version}  mode={tagger.mode}  labels={len(tagger.labels)}  features={tagger.features.dim}")
    print(f"train {train_s:.1f} s (cross-validated on train: accuracy {cv['accuracy']:.4f}, macro-F1 {cv['macro_f1']:.4f})")
    print(f"test  accuracy {result['accuracy']:.4f}  macro-F1 {result['macro_f1']:.4f}  "
          f"(n={result['n']}, tagged in {result['seconds']:.1f} s)")
    for label, s in sorted(result["per_label"].items(), key=lambda kv: -kv[1]["support"]):
        print(f"  {label:10s} P={s['precision']:.3f} R={s['recall']:.3f} F1={s['f1']:.3f} n={s['support']}")
    goal = result["macro_f1"] >= 0.92
    print(f"goal macro-F1 >= 0.92: {'met' if goal else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
