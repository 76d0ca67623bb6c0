"""Personal-data masking: mobile numbers, landlines, ID-card numbers, names after 来电人/联系人/业主."""
from __future__ import annotations

import pytest

from nlp.mask import mask_id_card, mask_name, mask_phone, mask_text


@pytest.mark.parametrize(
    "text, masked",
    [
        ("来电人张三，电话13812345678，身份证430102199001011234",
         "来电人张*，电话138****5678，身份证430102********1234"),
        ("手机139-1234-5678", "手机139-****-5678"),
        ("手机 139 1234 5678", "手机 139 **** 5678"),
        ("+86 138 1234 5678", "+86 138 **** 5678"),
        ("13812345678和13987654321都打不通", "138****5678和139****4321都打不通"),
        ("电话１３８１２３４５６７８", "电话１３８****５６７８"),  # full-width digits
    ],
)
def test_mobile_numbers(text, masked):
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text, masked",
    [
        ("座机0731-84567890", "座机0731-****7890"),
        ("电话(010)62345678", "电话(010)****5678"),
        ("电话 0731 8456 7890", "电话 0731 **** 7890"),
        ("物业值班电话：84567890", "物业值班电话：****7890"),
    ],
)
def test_landlines(text, masked):
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text, masked",
    [
        ("身份证430102199001011234", "身份证430102********1234"),
        ("身份证号43010219900101123X", "身份证号430102********123X"),
        ("身份证：４３０１０２１９９００１０１１２３４", "身份证：４３０１０２********１２３４"),
    ],
)
def test_id_card_numbers(text, masked):
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text, masked",
    [
        ("来电人王芳反映楼道灯坏了", "来电人王*反映楼道灯坏了"),
        ("联系人：李建国 手机139-1234-5678", "联系人：李** 手机139-****-5678"),
        ("业主刘洋称物业不作为", "业主刘*称物业不作为"),
        ("来电人欧阳娜娜称小区停水", "来电人欧***称小区停水"),
        ("投诉人：赵敏", "投诉人：赵*"),
        ("来电人姓名：周杰", "来电人姓名：周*"),
        ("反映人刘洋、联系人王强", "反映人刘*、联系人王*"),
    ],
)
def test_names_after_cues(text, masked):
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "业主委员会要求公开账目",
        "业主反映停车难",
        "来电人称其家中停电",
        "业主群里有人说要换物业",
        "来电人张先生反映路灯不亮",  # a surname with 先生 is not a full name
        "订单号12345678901234567890",  # not a phone or an ID number
        "小区建于1998年，共12栋楼480户",
    ],
)
def test_text_without_personal_data_is_unchanged(text):
    assert mask_text(text) == text


def test_masked_text_keeps_its_length_and_the_rest_of_the_text():
    text = "来电人王芳（电话13812345678）反映：幸福里小区3号楼停水两天。"
    out = mask_text(text)
    assert len(out) == len(text)
    assert "13812345678" not in out and "王芳" not in out
    assert out.endswith("反映：幸福里小区3号楼停水两天。")


def test_helpers():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("") == "" and mask_name(None) == ""
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0731-84567890") == "0731-****7890"
    assert mask_id_card("430102199001011234") == "430102********1234"


@pytest.mark.parametrize("text", ["", None])
def test_empty(text):
    assert mask_text(text) == ""


def test_long_and_odd_input():
    text = ("小区停水😀，联系人陈明 13812345678。abc " * 2000)[:20000]
    out = mask_text(text)
    assert len(out) == len(text)
    assert "13812345678" not in out and "陈明" not in out
