"""Texts with nothing of urban renewal in them get ``other``, not a theme picked from shared characters.

"今天天气不错" was tagged 燃气 (0.75, not flagged for review): jieba keeps 今天天气 and 不错 whole, words
the model never saw, so only character n-grams scored, and 气 / 天气 come from 燃气 texts ("停了一整天气",
"冬天气不够"). The tagger now answers ``other`` when no word of the text supports the top theme.
The everyday texts below were written for this test and are not in the corpus."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from nlp.features import make_doc
from nlp.tagger import Tagger, known_parts
from nlp.themes import OTHER
from nlp.training import Record, TrainParams, corpus_records, train
from tests.nlp.conftest import SMALL_THEMES

pytestmark = pytest.mark.tagging

EVERYDAY = [
    "今天天气不错", "今天天气真好啊", "明天好像要下雨，记得带伞", "这周末阳光明媚，适合出去走走", "你好",
    "谢谢你们", "测试一下", "哈哈哈哈", "我想买一台新手机", "晚饭吃什么好呢", "周末带孩子去动物园看熊猫",
    "最近在学做红烧肉，味道还可以", "这部电视剧的结局太让人意外了", "祝大家新年快乐，万事如意",
    "我家的猫今天特别调皮", "早上好，今天也要加油", "昨天的足球比赛踢得真精彩", "我喜欢听周杰伦的歌",
    "春天来了，花都开了", "这本小说我看了三遍", "中秋节吃月饼赏月", "下午三点开会别忘了",
    "你们的工作人员态度很好，点个赞", "今年夏天特别热", "冬天快到了，天气越来越冷", "股票今天又跌了",
    "我在学英语，想出国读书", "朋友结婚请我当伴郎", "新买的鞋子有点磨脚", "老家的苹果熟了，很甜",
]

# short real complaints whose key compound the segmenter keeps whole (楼顶漏水) or that are one or two words
SHORT_COMPLAINTS = [
    ("楼顶漏水了", "building_safety"), ("电梯又坏了", "elevator"), ("路灯不亮", "lighting"), ("车位太少", "parking"),
    ("燃气管道生锈了", "gas"), ("天然气什么时候通", "gas"), ("暖气不热", "heating"), ("下水道堵了", "drainage"),
    ("今天天气不错，可是小区门口的路灯坏了", "lighting"), ("冬天到了天气冷，暖气片还是冰的", "heating"),
]


def test_the_reported_text_is_other(tagger):
    r = tagger.tag("今天天气不错")
    assert r.codes == [OTHER], r.themes
    assert "gas" not in r.codes


def test_everyday_texts_never_get_a_confident_theme(tagger):
    results = tagger.tag_batch(EVERYDAY, n_jobs=1)
    confident = [(t, r.themes) for t, r in zip(EVERYDAY, results) if r.codes != [OTHER] and not r.needs_review]
    assert confident == []
    other = sum(r.codes == [OTHER] for r in results)
    assert other >= 27, [(t, r.themes) for t, r in zip(EVERYDAY, results) if r.codes != [OTHER]]


@pytest.mark.parametrize("text,theme", SHORT_COMPLAINTS)
def test_short_complaints_keep_their_theme(tagger, text, theme):
    assert tagger.tag(text).codes[0] == theme


def test_an_unknown_compound_counts_through_its_known_parts(tagger):
    vocab = tagger.features.word_vocab
    doc = make_doc("楼顶漏水了")
    assert doc.words == ["楼顶漏水"] and "楼顶漏水" not in vocab  # nothing the model knows as a word
    assert known_parts(doc.words, vocab) == ["楼顶", "漏水"]
    assert set(known_parts(["今天天气"], vocab)) <= {"今天", "天天", "天气"}
    assert known_parts(["漏水", "xx"], {"漏水": 0}) == ["漏水"]  # known words stay, short unknown ones go


def _row(tagger, top: str, p_top: float) -> np.ndarray:
    p = np.full(len(tagger.labels), 0.01)
    p[tagger.labels.index(top)] = p_top
    return p


def test_decide_needs_word_evidence_for_a_theme(tagger):
    p = _row(tagger, "gas", 0.75)
    support = np.zeros(len(tagger.labels))
    chosen, review = tagger.decide(p, support)
    assert [tagger.labels[j] for j in chosen] == [OTHER] and review
    support[tagger.labels.index("gas")] = 0.3
    chosen, review = tagger.decide(p, support)
    assert [tagger.labels[j] for j in chosen] == ["gas"] and not review
    assert [tagger.labels[j] for j in tagger.decide(p)[0]] == ["gas"]  # no evidence given: rule not applied


def test_decide_floor_on_the_top_probability(tagger):
    floored = copy.copy(tagger)
    floored.min_confidence = 0.3
    chosen, review = floored.decide(_row(tagger, "parking", 0.25))
    assert [tagger.labels[j] for j in chosen] == [OTHER] and review
    assert [tagger.labels[j] for j in floored.decide(_row(tagger, "parking", 0.35))[0]] == ["parking"]


def test_an_older_model_file_gets_the_evidence_rule_and_no_floor(tagger):
    state = {k: v for k, v in tagger.state.items() if k not in ("min_confidence", "require_word_evidence")}
    old = Tagger(state)
    assert old.min_confidence == 0.0 and old.require_word_evidence
    assert old.tag("今天天气不错").codes == [OTHER]


def test_training_stores_the_decision_settings():
    records = [Record(t, tuple(l.split("|")), None) for t, l, _ in SMALL_THEMES]
    tuned = train(records)
    assert tuned.state["require_word_evidence"] is True
    assert 0.0 <= tuned.min_confidence <= 0.5
    assert tuned.metadata["params"]["min_confidence"] is None  # tuned on out-of-fold probabilities
    fixed = train(records, params=TrainParams(min_confidence=0.2, require_word_evidence=False))
    assert fixed.min_confidence == 0.2 and not fixed.require_word_evidence
    assert fixed.version != tuned.version


def test_the_corpus_has_everyday_other_lines_not_the_test_texts():
    texts = {r.text for r in corpus_records()}
    assert not texts & set(EVERYDAY)
    assert {"今天天晴，心情不错", "周末和家人去湖边野餐，风景很美，心情也好了很多。"} <= texts
