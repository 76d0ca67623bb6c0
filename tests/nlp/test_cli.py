"""The command-line contract, exercised in subprocesses:

    python -m nlp train --out MODEL [--data CSV ...] [--split NAME]
    python -m nlp evaluate --model MODEL --data CSV [--split NAME] --json
    python -m nlp tag --model MODEL "文本"

Training uses the tiny hand-written CSVs of conftest.py so that it takes a second or two.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SMALL_LABELS, SMALL_THEMES, write_csv

ROOT = Path(__file__).resolve().parents[2]


def run(*args, check=True):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MINSHENG_MODEL", None)
    p = subprocess.run(
        [sys.executable, "-m", "nlp", *map(str, args)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if check:
        assert p.returncode == 0, p.stderr
    return p


def run_in_process(capsys, *args):
    """The same entry point in this process (for the variants; the contract itself runs in subprocesses)."""
    from nlp.cli import main

    capsys.readouterr()
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    themes = write_csv(d / "themes.csv", ["text", "themes", "urgent"], SMALL_THEMES)
    # the same rows in another order, split over two files
    rev = list(reversed(SMALL_THEMES))
    part1 = write_csv(d / "part1.csv", ["text", "themes", "urgent"], rev[:10])
    part2 = write_csv(d / "part2.csv", ["id", "text", "themes", "urgent"], [(i,) + r for i, r in enumerate(rev[10:])])
    labels = write_csv(d / "labels.csv", ["id", "text", "label", "split"], [(i,) + r for i, r in enumerate(SMALL_LABELS)])
    nogold = write_csv(d / "nogold.csv", ["id", "text"], [(1, "小区停车难"), (2, "下水道堵了"), (3, "工地夜间施工太吵")])
    return {"dir": d, "themes": themes, "part1": part1, "part2": part2, "labels": labels, "nogold": nogold}


@pytest.fixture(scope="module")
def themes_model(data):
    out = data["dir"] / "themes.joblib"
    p = run("train", "--out", out, "--data", data["themes"], "--quiet")
    return out, json.loads(p.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def label_model(data):
    out = data["dir"] / "labels.joblib"
    p = run("train", "--out", out, "--data", data["labels"], "--split", "train", "--quiet")
    return out, json.loads(p.stdout.strip().splitlines()[-1])


def test_train_on_a_themes_csv(themes_model):
    out, summary = themes_model
    assert out.exists() and summary["model"] == str(out)
    assert summary["mode"] == "themes" and summary["labels"] == 24
    assert summary["n_records"] == len(SMALL_THEMES)
    assert summary["version"].startswith("m") and len(summary["data_hash"]) == 64


def test_training_is_deterministic(data, themes_model):
    """The same rows, in another order and split over two files, in another process: the same model."""
    from nlp.tagger import load_model

    first_path, first = themes_model
    p = run("train", "--out", data["dir"] / "order.joblib", "--data", data["part1"], data["part2"], "--quiet")
    s = json.loads(p.stdout.strip().splitlines()[-1])
    assert (s["version"], s["data_hash"]) == (first["version"], first["data_hash"])
    assert (s["cv_micro_f1"], s["cv_macro_f1"]) == (first["cv_micro_f1"], first["cv_macro_f1"])
    a, b = load_model(first_path, cache=False), load_model(data["dir"] / "order.joblib", cache=False)
    texts = ["楼下下水道堵了，污水漫出来", "晚上施工太吵", "车位不够", "工资被拖欠"]
    assert [r.scores for r in a.tag_batch(texts, n_jobs=1)] == [r.scores for r in b.tag_batch(texts, n_jobs=1)]


def test_different_data_gives_a_different_version(data, themes_model, capsys):
    _, first = themes_model
    fewer = write_csv(data["dir"] / "fewer.csv", ["text", "themes"], [r[:2] for r in SMALL_THEMES[1:]])
    code, out, _ = run_in_process(capsys, "train", "--out", data["dir"] / "fewer.joblib", "--data", fewer, "--quiet")
    assert code == 0
    s = json.loads(out.strip().splitlines()[-1])
    assert s["version"] != first["version"] and s["data_hash"] != first["data_hash"]


def test_train_on_a_label_csv_with_split(label_model):
    _, summary = label_model
    assert summary["mode"] == "single" and summary["labels"] == 3
    assert summary["n_records"] == sum(1 for r in SMALL_LABELS if r[2] == "train")


def test_tag_prints_themes_urgent_and_needs_review(themes_model):
    out, _ = themes_model
    p = run("tag", "--model", out, "来电人反映：小区下水道堵了，粪水从地漏冒出来流进了一楼住户家里")
    lines = p.stdout.strip().splitlines()
    assert lines[0].startswith("themes: drainage(排水防涝) ")
    assert float(lines[0].split()[2]) > 0.5
    assert lines[1] == "urgent: true"
    assert lines[2] == "needs_review: false"


def test_tag_json(themes_model):
    out, summary = themes_model
    p = run("tag", "--model", out, "--json", "工地半夜还在施工，吵死了", "谢谢")
    first, second = [json.loads(x) for x in p.stdout.strip().splitlines()]
    assert first["themes"][0]["code"] == "noise" and 0 < first["themes"][0]["probability"] <= 1
    assert first["urgent"] is False and first["needs_review"] is False
    assert first["model_version"] == summary["version"]
    assert second["needs_review"] is True


def test_tag_with_the_label_model(label_model, capsys):
    out, _ = label_model
    code, stdout, _ = run_in_process(capsys, "tag", "--model", out, "--json", "希望开通到火车站的公交线路")
    assert code == 0
    d = json.loads(stdout)
    assert [t["code"] for t in d["themes"]] == ["交通运输"]


def _check_scores(d, n):
    assert d["n"] == n
    for key in ("micro_f1", "macro_f1", "accuracy"):
        assert 0.0 <= d[key] <= 1.0
    assert isinstance(d["seconds"], float) and d["seconds"] >= 0
    for label, s in d["per_label"].items():
        assert set(s) >= {"precision", "recall", "f1", "support"}
        assert all(0.0 <= s[k] <= 1.0 for k in ("precision", "recall", "f1"))
        assert isinstance(s["support"], int)


def test_evaluate_json_on_a_labelled_csv(data, themes_model):
    out, _ = themes_model
    p = run("evaluate", "--model", out, "--data", data["themes"], "--json")
    d = json.loads(p.stdout)  # one JSON object, nothing else on stdout
    _check_scores(d, len(SMALL_THEMES))
    assert d["micro_f1"] > 0.8  # its own training data
    assert d["per_label"]["parking"]["support"] == 8
    assert d["per_label"]["drainage"]["support"] == 9


def test_evaluate_json_with_split(data, label_model, capsys):
    out, _ = label_model
    code, stdout, _ = run_in_process(capsys, "evaluate", "--model", out, "--data", data["labels"], "--split", "test", "--json")
    assert code == 0
    d = json.loads(stdout)
    _check_scores(d, sum(1 for r in SMALL_LABELS if r[2] == "test"))
    assert set(d["per_label"]) <= {"交通运输", "教育文体", "卫生计生"}
    assert sum(s["support"] for s in d["per_label"].values()) == d["n"]


def test_evaluate_without_gold_column_tags_and_times_only(data, themes_model):
    out, _ = themes_model
    d = json.loads(run("evaluate", "--model", out, "--data", data["nogold"], "--json").stdout)
    assert d["n"] == 3 and d["seconds"] >= 0
    assert d["micro_f1"] is None and d["macro_f1"] is None and d["accuracy"] is None and d["per_label"] is None


def test_errors_are_reported_not_raised(data, tmp_path, capsys):
    code, _, err = run_in_process(capsys, "tag", "--model", tmp_path / "missing.joblib", "文本")
    assert code == 2 and "not found" in err
    code, _, err = run_in_process(capsys, "train", "--out", tmp_path / "m.joblib", "--data", data["themes"], "--split", "train")
    assert code == 2 and "split" in err
    bad = write_csv(tmp_path / "bad.csv", ["body", "themes"], [("小区停车难", "parking")])
    code, _, err = run_in_process(capsys, "train", "--out", tmp_path / "m.joblib", "--data", bad)
    assert code == 2 and "text" in err
    assert not (tmp_path / "m.joblib").exists()
