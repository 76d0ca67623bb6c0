"""Empty, very long, non-Chinese, emoji-only and mixed-script input through every analysis."""
from __future__ import annotations

import time

import pytest

from nlp.dedup import NearDuplicateFinder
from nlp.keywords import extract_keywords
from nlp.mask import mask_text
from nlp.tokenize import MAX_CHARS, normalize, prepare, tokenize
from nlp.urgent import is_urgent

LONG = ("小区下水道经常堵塞，污水外溢，物业一直不处理。" * 1000)[:20000]
ODD = {
    "empty": "",
    "blank": " \t\n　 ",
    "english": "The elevator in building 3 is broken, please fix it ASAP.",
    "digits": "1234567 89 0000",
    "emoji": "😀😡🔥🔥🚗💧",
    "mixed": "小区Wi-Fi信号差😡，elevator坏了，3号楼电梯停运，call 138-1234-5678 !!",
    "korean_japanese": "엘리베이터 고장 エレベーターが故障しました",
    "long": LONG,
}


@pytest.mark.parametrize("name", ODD)
def test_tokenize_and_mask_handle_odd_input(name):
    text = ODD[name]
    tokens = tokenize(text)
    assert isinstance(tokens, list) and all(isinstance(t, str) and t for t in tokens)
    assert len(prepare(text)) <= MAX_CHARS
    assert isinstance(normalize(text), str)
    assert isinstance(mask_text(text), str) and len(mask_text(text)) == len(text)
    assert isinstance(is_urgent(text), bool)


def test_tokens_of_specific_odd_inputs():
    assert tokenize("") == [] and tokenize(None) == [] and tokenize(ODD["blank"]) == []
    assert tokenize(ODD["emoji"]) == []
    assert tokenize(ODD["digits"]) == []
    assert "elevator" in tokenize(ODD["english"])
    mixed = tokenize(ODD["mixed"])
    assert "电梯" in mixed and "elevator" in mixed and not any(t.isdigit() for t in mixed)


def test_long_text_is_cut_and_fast():
    t0 = time.perf_counter()
    tokens = tokenize(LONG)
    assert time.perf_counter() - t0 < 5
    assert "下水道" in tokens
    assert len(prepare(LONG)) == MAX_CHARS


@pytest.mark.tagging
@pytest.mark.parametrize("name", ODD)
def test_tagger_handles_odd_input(tagger, name):
    r = tagger.tag(ODD[name])
    assert 1 <= len(r.themes) <= 3
    assert isinstance(r.urgent, bool) and isinstance(r.needs_review, bool)
    assert all(0.0 <= p <= 1.0 for _, p in r.themes)


@pytest.mark.tagging
def test_tagger_on_specific_odd_inputs(tagger):
    for name in ("empty", "blank", "digits", "emoji"):
        r = tagger.tag(ODD[name])
        assert r.needs_review and not r.urgent, (name, r)
    assert tagger.tag(None).needs_review
    assert tagger.tag(LONG).codes[0] == "drainage"
    assert tagger.tag(ODD["mixed"]).codes[0] == "elevator"
    batch = tagger.tag_batch(list(ODD.values()), n_jobs=1)
    assert [r.codes for r in batch] == [tagger.tag(t).codes for t in ODD.values()]


def test_keywords_and_dedup_on_odd_input():
    texts = list(ODD.values())
    kws = extract_keywords(texts, top_k=5)
    assert {w for w, _ in kws} >= {"下水道", "外溢"}
    f = NearDuplicateFinder().fit(list(enumerate(texts)))
    assert f.similar(ODD["emoji"]) == []
    assert [i for i, _ in f.similar(LONG)] == [list(ODD).index("long")]
