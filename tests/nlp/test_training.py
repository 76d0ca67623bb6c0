"""Training API: reading labelled CSVs, staff corrections, scoring."""
from __future__ import annotations

import pytest

from nlp.training import Record, data_hash, evaluate, load_labelled_csv, multilabel_scores, train

from .conftest import SMALL_LABELS, SMALL_THEMES, write_csv


@pytest.fixture(scope="module")
def small_records():
    return [Record(t, tuple(l.split("|")), u == "1" if u else None) for t, l, u in SMALL_THEMES]


@pytest.fixture(scope="module")
def small_model(small_records):
    return train(small_records)


def test_load_themes_label_and_unlabelled_csv(tmp_path):
    themes = load_labelled_csv(write_csv(tmp_path / "t.csv", ["text", "themes", "urgent"], SMALL_THEMES))
    assert len(themes) == len(SMALL_THEMES)
    assert themes[-1].labels == ("parking", "drainage")
    assert sum(bool(r.urgent) for r in themes) == 1
    labels = load_labelled_csv(write_csv(tmp_path / "l.csv", ["text", "label", "split"], SMALL_LABELS), split="test")
    assert len(labels) == sum(1 for r in SMALL_LABELS if r[2] == "test")
    assert all(len(r.labels) == 1 for r in labels)
    bare = load_labelled_csv(write_csv(tmp_path / "n.csv", ["text"], [("小区停车难",), ("下水道堵了",)]))
    assert [r.labels for r in bare] == [None, None]


def test_load_gb18030_csv(tmp_path):
    p = tmp_path / "gbk.csv"
    p.write_bytes("text,themes\n小区路灯坏了,lighting\n".encode("gb18030"))
    assert load_labelled_csv(p) == [Record("小区路灯坏了", ("lighting",), None)]


def test_data_hash_ignores_order_but_not_content(small_records):
    assert data_hash(small_records) == data_hash(list(reversed(small_records)))
    changed = small_records[:-1] + [Record(small_records[-1].text, ("parking",), None)]
    assert data_hash(changed) != data_hash(small_records)


def test_small_model_tags_its_themes(small_model):
    assert small_model.mode == "themes"
    assert small_model.tag("晚上工地打桩太吵了").codes[0] == "noise"
    assert small_model.tag("车位太少没地方停车").codes[0] == "parking"
    assert small_model.tag("医保报销怎么办理").codes == ["other"]


def test_corrections_override_corpus_rows_and_change_the_model(small_records, small_model):
    text = "小区门口乱停车，救护车都开不进来。"
    assert small_model.tag(text).codes[0] == "parking"
    corrected = train(small_records, extra=[Record(text, ("roads",), None)])
    md = corrected.metadata
    assert md["n_records"] == len(small_records)  # replaced, not added
    assert md["n_extra"] == 1
    assert corrected.version != small_model.version
    assert corrected.tag(text).scores["roads"] > small_model.tag(text).scores["roads"]


def test_single_label_mode(tmp_path):
    recs = load_labelled_csv(write_csv(tmp_path / "l.csv", ["text", "label", "split"], SMALL_LABELS), split="train")
    m = train(recs)
    assert m.mode == "single" and m.labels == sorted({r[1] for r in SMALL_LABELS})
    r = m.tag("医院挂号排队太久")
    assert r.codes == ["卫生计生"] and len(r.themes) == 1


def test_training_needs_two_labelled_records():
    with pytest.raises(ValueError):
        train([Record("小区停车难", ("parking",))])


def test_multilabel_scores_by_hand():
    gold = [("parking",), ("parking", "drainage"), ("noise",)]
    pred = [("parking",), ("parking",), ("drainage",)]
    s = multilabel_scores(gold, pred)
    # tp: parking 2; fp: drainage 1; fn: drainage 1, noise 1
    assert s["micro_precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert s["micro_recall"] == pytest.approx(2 / 4, abs=1e-4)
    assert s["micro_f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5), abs=1e-4)
    assert s["accuracy"] == pytest.approx(1 / 3, abs=1e-4)
    assert s["per_label"]["parking"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2}
    assert s["per_label"]["noise"]["support"] == 1 and s["per_label"]["noise"]["f1"] == 0.0
    assert s["macro_f1"] == pytest.approx((1.0 + 0.0 + 0.0) / 3, abs=1e-4)


def test_evaluate_reports_scores_urgent_and_time(small_model, small_records):
    d = evaluate(small_model, small_records)
    assert d["n"] == len(small_records) and d["seconds"] >= 0
    assert d["micro_f1"] > 0.8
    assert d["urgent"]["support"] == 1
    unlabelled = evaluate(small_model, [Record("小区停车难"), Record("下水道堵了")])
    assert unlabelled["n"] == 2 and unlabelled["micro_f1"] is None and unlabelled["per_label"] is None
