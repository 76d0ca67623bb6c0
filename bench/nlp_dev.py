"""Real-text generalisation: the shipped default model (trained only on the project corpus) on
../shared/data/themes-dev.csv, then the effect of staff corrections.

    .venv/bin/python bench/nlp_dev.py

1. The shipped model ``nlp/models/default.joblib`` (trained into a temp dir from the corpus when missing)
   on every dev message: micro-F1 (goal >= 0.72), macro-F1 over themes with support >= 10 (goal >= 0.65),
   exact-match accuracy, per-theme lines, the urgent flag.
2. Corrections: retrain in memory with the corpus plus the first half of the dev set as staff
   corrections (``train(corpus, extra=first_half)``) and compare with the shipped model on the second
   half. The dev set is never written into the project or into the shipped model.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MIN_SUPPORT = 10


def macro_over(per_label: dict, min_support: int) -> tuple[float, int]:
    f1s = [s["f1"] for s in per_label.values() if s["support"] >= min_support]
    return (sum(f1s) / len(f1s) if f1s else 0.0), len(f1s)


def summary(name: str, r: dict) -> str:
    macro10, k = macro_over(r["per_label"], MIN_SUPPORT)
    u = r.get("urgent") or {}
    return (
        f"{name:28s} n={r['n']:3d}  micro-F1 {r['micro_f1']:.4f}  macro-F1(support>={MIN_SUPPORT}, {k} themes) "
        f"{macro10:.4f}  macro-F1(all) {r['macro_f1']:.4f}  exact {r['accuracy']:.4f}  "
        f"urgent P/R {u.get('precision', 0):.2f}/{u.get('recall', 0):.2f}  review {r['needs_review_rate']:.3f}"
    )


def shipped_model(tmp: str):
    from nlp.tagger import default_model_path, load_model
    from nlp.training import corpus_records, train

    path = Path(default_model_path())
    if not path.exists():
        print(f"{path} is missing: training it from the corpus into a temp dir")
        path = train(corpus_records()).save(Path(tmp) / "default.joblib")
    return load_model(path, cache=False)


def main() -> int:
    from nlp.themes import theme_name
    from nlp.training import corpus_records, evaluate, load_labelled_csv, train

    dev = load_labelled_csv(DATA / "themes-dev.csv")
    dev = [r for r in dev if r.labels]
    with tempfile.TemporaryDirectory(prefix="minsheng-dev-") as tmp:
        tagger = shipped_model(tmp)
    md = tagger.metadata
    print(f"shipped model {tagger.version}: {md['n_records']} corpus records, source={md.get('source')}, "
          f"cv micro-F1 {md['scores']['cv']['micro_f1']}")

    full = evaluate(tagger, dev, n_jobs=1)
    print("\n1. shipped model on the whole dev set")
    print(summary("shipped model", full))
    macro10, _ = macro_over(full["per_label"], MIN_SUPPORT)
    print(f"goals: micro-F1 >= 0.72 {'met' if full['micro_f1'] >= 0.72 else 'NOT met'}; "
          f"macro-F1(support>={MIN_SUPPORT}) >= 0.65 {'met' if macro10 >= 0.65 else 'NOT met'}")
    print(f"  {'theme':22s} {'名称':8s}   P      R      F1    support")
    for code, s in sorted(full["per_label"].items(), key=lambda kv: (-kv[1]["support"], kv[0])):
        mark = "" if s["support"] >= MIN_SUPPORT else "   (support < 10: not in the macro)"
        print(f"  {code:22s} {theme_name(code):8s} {s['precision']:.3f}  {s['recall']:.3f}  {s['f1']:.3f}  {s['support']:5d}{mark}")

    half = (len(dev) + 1) // 2
    first, second = dev[:half], dev[half:]
    print(f"\n2. corrections: corpus + the first {len(first)} dev messages as staff corrections, "
          f"scored on the other {len(second)}")
    t0 = time.perf_counter()
    corrected = train(corpus_records(), extra=first)  # in memory only: never saved
    print(f"retrained in {time.perf_counter() - t0:.1f} s ({corrected.version}, {corrected.metadata['n_records']} records)")
    before = evaluate(tagger, second, n_jobs=1)
    after = evaluate(corrected, second, n_jobs=1)
    print(summary("before (shipped)", before))
    print(summary("after (with corrections)", after))
    b10, _ = macro_over(before["per_label"], MIN_SUPPORT)
    a10, _ = macro_over(after["per_label"], MIN_SUPPORT)
    print(f"change on the second half: micro-F1 {after['micro_f1'] - before['micro_f1']:+.4f}, "
          f"macro-F1(support>={MIN_SUPPORT}) {a10 - b10:+.4f}, exact {after['accuracy'] - before['accuracy']:+.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
