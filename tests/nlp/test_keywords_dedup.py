"""Keyword extraction for summaries and the near-duplicate finder (merge suggestions)."""
from __future__ import annotations

import pytest

from nlp.dedup import NearDuplicateFinder
from nlp.keywords import extract_keywords


def test_specific_words_rise_above_common_ones():
    texts = ["小区化粪池堵了，污水外溢", "化粪池满了没人清掏", "化粪池的臭味飘到家里，小区没人管"]
    kws = extract_keywords(texts, top_k=5)
    assert kws[0] == ("化粪池", 1.0)
    words = [w for w, _ in kws]
    # 小区 is in almost every corpus record: it may appear, but below the specific words
    if "小区" in words:
        assert words.index("小区") > words.index("化粪池")
    scores = [s for _, s in kws]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1.0 for s in scores)


def test_keywords_skip_boilerplate_stopwords_numbers_and_single_characters():
    kws = extract_keywords("尊敬的领导您好，我们3号楼想加装电梯，请问审批流程，电话13812345678，谢谢！", top_k=10)
    words = [w for w, _ in kws]
    assert "加装电梯" in words
    for w in words:
        assert len(w) >= 2 and not any(ch.isdigit() for ch in w)
        assert w not in {"尊敬", "领导", "您好", "我们", "谢谢"}


def test_keywords_top_k_and_empty_input():
    texts = ["楼道灯坏了，晚上摸黑上楼", "路灯不亮，小路黑漆漆的", "楼道灯和路灯都要修"]
    assert len(extract_keywords(texts, top_k=2)) == 2
    assert extract_keywords([], top_k=5) == []
    assert extract_keywords(["", "😀😀"], top_k=5) == []
    assert extract_keywords(texts, top_k=0) == []


ITEMS = [
    (1, "幸福里小区3号楼下水道堵了，污水漫到单元门口"),
    (2, "小区广场舞噪音太大，晚上吵得睡不着"),
    (3, "来电人反映：幸福里小区3号楼下水道又堵了，污水漫到单元门口，电话13812345678"),
    (4, "建议在社区增设老年食堂"),
    (5, "尊敬的领导您好！幸福里小区3号楼的下水道堵了，污水都漫到单元门口了，谢谢！"),
    (6, ""),
]


@pytest.fixture(scope="module")
def finder():
    return NearDuplicateFinder().fit(ITEMS)


def test_similar_finds_the_repeated_complaint(finder):
    hits = finder.similar("幸福里小区3号楼的下水道又堵了，污水都漫到单元门口了", threshold=0.4)
    ids = [i for i, _ in hits]
    assert set(ids) == {1, 3, 5}
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True) and all(0.4 <= s <= 1.0 for s in scores)


def test_similar_ignores_boilerplate_and_phone_numbers(finder):
    # record 3 differs from record 1 by an opener, one character and a phone number
    score = dict(finder.similar(ITEMS[0][1], threshold=0.0, limit=10))
    assert score[3] > 0.75
    assert score.get(2, 0.0) < 0.2 and score.get(4, 0.0) < 0.2


def test_similar_threshold_limit_and_exclude(finder):
    assert finder.similar("小区广场舞噪音太大，晚上吵得睡不着", exclude=2) == []
    assert [i for i, _ in finder.similar("小区广场舞噪音太大，晚上吵得睡不着")] == [2]
    assert len(finder.similar(ITEMS[0][1], limit=1)) == 1
    assert finder.similar("完全无关的内容：公积金贷款额度") == []


def test_groups_suggest_merges(finder):
    groups = finder.groups(threshold=0.5)
    assert [sorted(g) for g in groups] == [[1, 3, 5]]
    pairs = finder.pairs(threshold=0.5)
    assert {(a, b) for a, b, _ in pairs} <= {(1, 3), (1, 5), (3, 5)}
    assert (1, 3) in {(a, b) for a, b, _ in pairs}


def test_finder_on_empty_and_odd_input():
    empty = NearDuplicateFinder().fit([])
    assert empty.similar("下水道堵了") == [] and empty.groups() == [] and empty.pairs() == []
    f = NearDuplicateFinder().fit([(1, "😀😀😀"), (2, "hello world"), (3, "")])
    assert f.similar("😀😀😀") == [] and f.groups() == []
    assert len(f) == 3
