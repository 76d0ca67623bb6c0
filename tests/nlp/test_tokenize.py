"""Tokeniser: domain terms kept whole, width/whitespace normalisation, boilerplate dropped."""
from __future__ import annotations

import pytest

from nlp.tokenize import normalize, prepare, strip_boilerplate, tokenize, user_words

DOMAIN_TERMS = ["加装电梯", "飞线充电", "雨污分流", "二次供水", "老旧小区", "化粪池", "消防通道", "僵尸车"]


@pytest.mark.parametrize(
    "text, term",
    [
        ("我们楼想加装电梯，一楼住户不同意", "加装电梯"),
        ("楼上有人从窗口吊线下来飞线充电", "飞线充电"),
        ("这条街什么时候做雨污分流", "雨污分流"),
        ("高层的二次供水水箱多久清洗一次", "二次供水"),
        ("老旧小区没有物业，垃圾没人管", "老旧小区"),
        ("化粪池满了往外冒", "化粪池"),
        ("消防通道被私家车堵死了", "消防通道"),
        ("门口那辆僵尸车停了三年", "僵尸车"),
    ],
)
def test_domain_terms_are_one_token(text, term):
    tokens = tokenize(text)
    assert term in tokens
    # and it is not also split into pieces
    assert not any(t != term and t in term and len(t) >= 2 for t in tokens), tokens


def test_domain_terms_are_in_the_user_dictionary():
    words = set(user_words())
    assert set(DOMAIN_TERMS) <= words


def test_domain_terms_survive_in_a_run_of_other_words():
    text = "来电人反映：老旧小区雨污分流改造后化粪池满溢，二次供水水箱脏，消防通道被僵尸车占了，还有人飞线充电，想加装电梯。"
    tokens = tokenize(text)
    for term in DOMAIN_TERMS:
        assert term in tokens, (term, tokens)


def test_normalize_full_width_to_half_width():
    assert normalize("Ａ栋１２号，电梯坏了！") == "a栋12号,电梯坏了!"
    assert normalize("ＡＢＣ１２３") == "abc123"
    assert normalize("（３）号楼：停水；") == "(3)号楼:停水;"


def test_normalize_whitespace_and_control_characters():
    assert normalize("  小区\t停车\n\n难　　问题 ") == "小区 停车 难 问题"
    assert normalize("电\u200b梯\ufeff坏了") == "电梯坏了"
    assert normalize(None) == ""
    assert normalize("") == ""


def test_full_and_half_width_texts_give_the_same_tokens():
    assert tokenize("３号楼停水，二次供水设备坏了！") == tokenize("3号楼停水,二次供水设备坏了!")
    assert tokenize("小区　停车　难") == tokenize("小区 停车 难")


@pytest.mark.parametrize(
    "text, dropped, kept",
    [
        ("尊敬的领导：您好！我们小区的路灯坏了。", ["尊敬", "领导", "您好"], "路灯"),
        ("尊敬的市长您好，小区停水三天了", ["尊敬", "市长", "您好"], "停水"),
        ("来电人反映：小区路灯坏了", ["来电人", "反映"], "路灯"),
        ("市民来电称：楼道灯不亮", ["市民", "来电"], "楼道灯"),
        ("您好，小区垃圾没人清运", ["您好"], "垃圾"),
        ("小区路灯坏了。此致敬礼！", ["此致", "敬礼"], "路灯"),
        ("小区路灯坏了，盼复，谢谢！", ["盼复", "谢谢"], "路灯"),
    ],
)
def test_boilerplate_is_dropped(text, dropped, kept):
    tokens = tokenize(text)
    for w in dropped:
        assert w not in tokens, (w, tokens)
    assert kept in tokens


def test_signature_and_date_at_the_end_are_dropped():
    text = "幸福里小区的路灯坏了一个多月，请尽快修好。幸福里小区全体业主 2023年5月6日"
    prepared = prepare(text)
    assert "全体业主" not in prepared
    assert "2023" not in prepared
    assert "路灯坏了" in prepared


@pytest.mark.parametrize(
    "text, number",
    [
        ("小区停水了，联系电话13812345678", "13812345678"),
        ("电话：0731-84567890，楼道灯坏了", "84567890"),
        ("手机 139 1234 5678 小区停电", "5678"),
    ],
)
def test_phone_numbers_are_dropped(text, number):
    prepared = strip_boilerplate(normalize(text))
    assert number not in prepared
    assert all(not t.isdigit() for t in tokenize(text))


def test_id_card_number_is_dropped():
    assert "430102199001011234" not in prepare("业主身份证430102199001011234，要求办理房产证")


def test_stopwords_and_punctuation_are_not_tokens():
    tokens = tokenize("我们的小区，的确是，有一些问题。。。！！")
    assert "的" not in tokens and "我们" not in tokens
    assert not any(ch in "，。！,.!" for t in tokens for ch in t)


def test_doctest_example_of_tokenize():
    assert tokenize("尊敬的领导您好！我们小区想加装电梯，楼道里飞线充电很危险。") == [
        "小区", "加装电梯", "楼道", "飞线充电", "危险",
    ]


def _corpus_sample(k=400):
    from nlp.training import corpus_records

    recs = corpus_records()
    return [r.text for r in recs[:: max(1, len(recs) // k)]]


def test_fast_segmenter_agrees_with_jieba():
    """nlp.tokenize.segment is jieba's HMM-free segmentation re-walked faster: the output must be identical."""
    from nlp.tokenize import get_jieba, segment

    jb = get_jieba()
    odd = [
        "", " ", "abc 12 d e", "\r\n x\r\ny", "Wi-Fi信号差😀elevator坏了a1b", "ＡＢＣ　１２", "3号楼2单元a栋",
        "#&._%-", "\t\t", "加装电梯飞线充电雨污分流二次供水老旧小区化粪池消防通道僵尸车", "的的的的", "长" * 300,
    ]
    texts = odd + _corpus_sample()
    for text in texts:
        for t in (text, prepare(text)):
            assert segment(t) == jb.lcut(t, HMM=False), t[:40]


def test_fast_segmenter_uses_jiebas_block_patterns():
    import jieba

    from nlp import tokenize as tk

    assert tk._RE_HAN.pattern == jieba.re_han_default.pattern
    assert tk._RE_SKIP.pattern == jieba.re_skip_default.pattern
