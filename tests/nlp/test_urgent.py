"""Urgent flag (THEMES.md severity): immediate danger to life or property, and look-alikes that are not."""
from __future__ import annotations

import pytest

from nlp.urgent import RULES, is_urgent, urgent_reasons

URGENT = [
    "3号楼2单元楼道里一股很浓的煤气味，怀疑燃气管道漏气了，请马上派人来！",
    "来电人反映：小区电梯突然停在两层中间，有一位老人被困在里面半个小时了。",
    "小区门口电线杆上的电线断了掉在地上，还在冒火花，小孩子在旁边玩很危险。",
    "下水道反水，粪水从地漏冒出来流进了一楼住户家里，客厅全淹了。",
    "我们楼的外墙瓷砖大块脱落，今天早上差点砸到楼下的行人。",
    "楼道里十几辆电动车在飞线充电，插线板就堵在安全出口旁边。",
    "电梯运行中突然下坠了好几层，里面的人吓坏了。",
    "单元楼配电箱着火了，浓烟往楼上冒，已经打了119。",
    "老房子的承重墙裂缝越来越大，昨晚楼板塌了一块，住户不敢回家。",
    "地下室的燃气表那里嘶嘶响，闻到很重的天然气味道。",
]
CALM = [
    "燃气公司上门检查过了，没有漏气，只是想问问什么时候换新的燃气表。",
    "希望小区加装电梯，老人爬楼太累了。",
    "电梯年检贴的合格证过期了，请物业尽快安排年检。",
    "担心楼道里的电线老化，会不会有漏电隐患，建议检查一下。",
    "小区下水道有点慢，希望物业疏通一下。",
    "消防通道被私家车占了，物业也不管。",
    "小区路灯不亮，晚上出门不方便。",
    "建议在小区里建一个电动车集中充电棚，防止飞线充电。",
    "外墙有些旧了，颜色发黑，希望改造时重新粉刷。",
    "如果发生火灾，楼道里堆放的杂物会影响疏散，请物业清理。",
]

REASONS = {
    URGENT[0]: "gas_leak",
    URGENT[1]: "lift_trapped",
    URGENT[2]: "live_wire",
    URGENT[3]: "sewage_flood",
    URGENT[4]: "collapse",
    URGENT[5]: "escape_route_fire",
    URGENT[6]: "lift_trapped",
    URGENT[8]: "collapse",
    URGENT[9]: "gas_leak",
}

# a long multi-point letter with one immediate danger in the middle
LONG_LETTER = (
    "尊敬的领导您好！我们是春晖小区的业主，小区问题很多：一是物业费收得高但服务差，保洁一周才来一次；"
    "二是停车位严重不足，晚上车都停到消防通道上；三是绿化带多年没人修剪。另外今天早上3栋2单元的燃气管道漏气了，"
    "整个楼道都是煤气味，请燃气公司马上来处理。四是小区路灯坏了一半，晚上出门很不方便。希望领导重视，谢谢！"
)


@pytest.mark.parametrize("text", URGENT)
def test_rules_flag_immediate_danger(text):
    assert is_urgent(text)


@pytest.mark.parametrize("text, reason", list(REASONS.items()))
def test_rules_name_the_danger(text, reason):
    assert reason in urgent_reasons(text)


@pytest.mark.parametrize("text", CALM)
def test_rules_leave_look_alikes_alone(text):
    assert not is_urgent(text), urgent_reasons(text)
    assert urgent_reasons(text) == []


def test_every_rule_family_of_themes_md_exists():
    assert set(RULES) == {"gas_leak", "live_wire", "collapse", "escape_route_fire", "lift_trapped", "sewage_flood"}


def test_negation_and_worry_turn_a_hit_off():
    assert is_urgent("楼道里有煤气味，可能漏气了")
    assert not is_urgent("燃气公司来检查过，没有漏气")
    assert not is_urgent("担心电梯会困人，希望加强维保")
    assert is_urgent("电梯困人了，快来人")


def test_empty_and_foreign_input_is_not_urgent():
    for text in ["", None, "   ", "hello world", "😀🔥🔥", "1234567"]:
        assert not is_urgent(text)
        assert urgent_reasons(text) == []


@pytest.mark.tagging
@pytest.mark.parametrize("text", URGENT + ["电梯困人了，快来人", "小区Wi-Fi信号差, elevator坏了电梯困人了!!", LONG_LETTER])
def test_tagger_flags_urgent(tagger, text):
    assert tagger.tag(text).urgent


@pytest.mark.tagging
@pytest.mark.parametrize("text", CALM)
def test_tagger_does_not_flag_look_alikes(tagger, text):
    assert not tagger.tag(text).urgent


@pytest.mark.tagging
def test_urgent_is_a_flag_beside_the_themes(tagger):
    r = tagger.tag("来电人反映：小区电梯突然停在两层中间，有一位老人被困在里面半个小时了。")
    assert r.urgent and r.codes[0] == "elevator"
    r = tagger.tag(LONG_LETTER)
    assert r.urgent and "gas" in r.codes
