"""Command line: ``python -m nlp {train,evaluate,tag,keywords,mask}``.

    python -m nlp train --out MODEL [--data CSV ...] [--split NAME] [--extra CSV ...]
    python -m nlp evaluate --model MODEL --data CSV [--split NAME] [--json]
    python -m nlp tag [--model MODEL] [--json] "文本" ...
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

__all__ = ["main"]


def _cmd_train(args) -> int:
    from .training import corpus_paths, load_labelled_csv, train

    paths = [Path(p) for p in args.data] if args.data else corpus_paths()
    if not paths:
        print("no training data: nlp/corpus/*.csv is empty and no --data given", file=sys.stderr)
        return 2
    records = load_labelled_csv(paths, split=args.split)
    extra = load_labelled_csv(args.extra) if args.extra else None
    labelled = [r for r in records if r.labels]
    if len(labelled) < 2:
        print(f"not enough labelled rows in {', '.join(map(str, paths))}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    source = ",".join(p.name for p in paths) + (f" split={args.split}" if args.split else "")
    tagger = train(records, extra=extra, verbose=not args.quiet, source=source)
    out = tagger.save(args.out)
    md = tagger.metadata
    summary = {
        "model": str(out),
        "version": tagger.version,
        "mode": md["mode"],
        "n_records": md["n_records"],
        "labels": len(md["labels"]),
        "data_hash": md["data_hash"],
        "cv_micro_f1": md["scores"]["cv"]["micro_f1"],
        "cv_macro_f1": md["scores"]["cv"]["macro_f1"],
        "seconds": round(time.perf_counter() - t0, 1),
        "bytes": out.stat().st_size,
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def _cmd_evaluate(args) -> int:
    from .tagger import load_model
    from .training import evaluate, load_labelled_csv

    tagger = load_model(args.model)
    records = load_labelled_csv(args.data, split=args.split)
    result = evaluate(tagger, records, n_jobs=args.jobs)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        if result["micro_f1"] is None:
            print(f"n={result['n']}  seconds={result['seconds']} (no gold labels: tagged and timed only)")
        else:
            print(
                f"n={result['n']}  micro_f1={result['micro_f1']}  macro_f1={result['macro_f1']}  "
                f"accuracy={result['accuracy']}  seconds={result['seconds']}"
            )
            for label, s in sorted(result["per_label"].items(), key=lambda kv: -kv[1]["support"]):
                print(f"  {label:22s} P={s['precision']:.3f} R={s['recall']:.3f} F1={s['f1']:.3f} n={s['support']}")
        if "urgent" in result:
            u = result["urgent"]
            print(f"urgent: P={u['precision']} R={u['recall']} (support {u['support']})")
    return 0


def _cmd_tag(args) -> int:
    from .tagger import load_model
    from .themes import theme_name

    tagger = load_model(args.model)
    texts = args.text or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    for text in texts:
        r = tagger.tag(text)
        if args.json:
            print(json.dumps(r.to_dict(), ensure_ascii=False))
            continue
        themes = "  ".join(f"{c}({theme_name(c)}) {p:.3f}" for c, p in r.themes)
        print(f"themes: {themes}")
        print(f"urgent: {str(r.urgent).lower()}")
        print(f"needs_review: {str(r.needs_review).lower()}")
    return 0


def _cmd_keywords(args) -> int:
    from .keywords import extract_keywords

    texts = args.text or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    for w, s in extract_keywords(texts, top_k=args.top):
        print(f"{w}\t{s}")
    return 0


def _cmd_mask(args) -> int:
    from .mask import mask_text

    texts = args.text or [line.rstrip("\n") for line in sys.stdin]
    for t in texts:
        print(mask_text(t))
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m nlp", description="Minsheng theme tagging engine")
    sub = ap.add_subparsers(dest="cmd", required=True)

    t = sub.add_parser("train", help="train a model (default: on the project corpus nlp/corpus/*.csv)")
    t.add_argument("--out", required=True, help="model file to write (.joblib)")
    t.add_argument("--data", nargs="+", help="CSV files with text and themes (|-joined) or label")
    t.add_argument("--split", help="keep only rows whose split column equals this")
    t.add_argument("--extra", nargs="+", help="extra labelled CSVs (staff corrections) on top of the data")
    t.add_argument("--quiet", action="store_true", help="no progress on stderr")
    t.set_defaults(func=_cmd_train)

    e = sub.add_parser("evaluate", help="score a model on a labelled CSV")
    e.add_argument("--model", required=True)
    e.add_argument("--data", required=True, nargs="+")
    e.add_argument("--split")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.add_argument("--jobs", type=int, default=1, help="processes for tagging (default 1; 0 = all cores)")
    e.set_defaults(func=_cmd_evaluate)

    g = sub.add_parser("tag", help="tag texts (arguments, or one per line on stdin)")
    g.add_argument("--model", help="model file (default: nlp/models/default.joblib or $MINSHENG_MODEL)")
    g.add_argument("--json", action="store_true")
    g.add_argument("text", nargs="*")
    g.set_defaults(func=_cmd_tag)

    k = sub.add_parser("keywords", help="keywords of texts (arguments, or one per line on stdin)")
    k.add_argument("--top", type=int, default=10)
    k.add_argument("text", nargs="*")
    k.set_defaults(func=_cmd_keywords)

    m = sub.add_parser("mask", help="mask personal data in texts")
    m.add_argument("text", nargs="*")
    m.set_defaults(func=_cmd_mask)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
