"""The shipped model on hand-picked examples of every theme, and the decision rules (1–3 themes,
``other`` alone, needs-review). The examples were written for these tests (not taken from any data set)."""
from __future__ import annotations

import pytest

from nlp.themes import MAX_THEMES, OTHER, THEME_CODES, THEMES, theme_name

pytestmark = pytest.mark.tagging

EXAMPLES = {  # theme -> hand-written examples whose first theme must be that theme
    "parking": [
        "来电人反映：小区车位太少，晚上下班回来根本找不到地方停车，只能停到外面马路上被贴罚单。",
        "我们楼下有辆僵尸车停了两年多，轮胎都瘪了，长期占着车位，希望有关部门拖走。",
        "小区门口乱停乱放严重，私家车把进出口都堵住了，建议划线规范停车。",
    ],
    "ev_charging": [
        "小区没有电动车充电桩，大家只能把电瓶拉回家里充，能不能建个充电棚？",
        "建议在地下车库安装新能源汽车充电桩，现在买了电车的住户充电很不方便。",
        "来电人反映：楼上住户从窗户吊下电线给电动自行车充电，希望社区增设集中充电设施。",
    ],
    "drainage": [
        "来电人反映：小区下水道堵塞一个多星期了，污水从井盖里冒出来，臭气熏天。",
        "每次下大雨我们这条巷子就积水，水深到膝盖，排水管网太细了，请求改造。",
        "化粪池满了没人清掏，粪水漫到路面上，请尽快处理。",
    ],
    "water_supply": [
        "我家住六楼，水压一直很低，白天水龙头只能滴水，二次供水设备是不是坏了？",
        "来电人反映：小区已经连续停水两天，没有任何通知，老人做饭都没水。",
        "自来水放出来发黄还有异味，担心水质有问题，请检测一下。",
    ],
    "gas": [
        "我们小区建成十几年了一直没通天然气，还在用瓶装液化气，什么时候能开通管道燃气？",
        "来电人咨询：新房燃气开户要交多少钱，燃气公司一直不来安装燃气表。",
        "希望燃气公司对老小区的燃气管道做一次安全检查，很多管子都锈了。",
    ],
    "heating": [
        "供暖已经开始一周了，我家暖气片还是冰凉的，室温只有十二度。",
        "来电人反映：小区集中供热温度不达标，暖气不热，但供暖费一分没少收。",
        "老小区没有接入集中供热管网，冬天只能用电暖器，希望纳入供暖改造。",
    ],
    "power": [
        "来电人反映：小区这个月已经停电四次了，每次都是好几个小时，冰箱里的东西都坏了。",
        "楼道里电线老化严重，一到晚上用电高峰电压就不稳，空调都开不起来，需要电力增容。",
        "我们这条街上空电线乱拉像蜘蛛网一样，希望架空线入地整治。",
    ],
    "lighting": [
        "小区里的路灯坏了好几个月，晚上黑漆漆的，老人出门散步都不敢。",
        "来电人反映：三单元楼道灯不亮了，声控灯全坏了，上下楼只能摸黑。",
        "建议在小区后面那条小路上安装路灯，现在一盏灯都没有。",
    ],
    "elevator": [
        "我们是老旧小区的六层步梯楼，楼里老人多，爬楼太辛苦，想申请加装电梯，政府有补贴吗？",
        "小区电梯三天两头出故障，停运了又没人修，电梯维保单位根本不负责。",
        "来电人咨询加装电梯的审批流程，一楼住户不同意怎么办。",
    ],
    "elderly_care": [
        "社区老年人很多，希望开个老年食堂，解决独居老人吃饭难的问题。",
        "建议在小区里设立日间照料中心，让白天子女上班的老人有地方去。",
        "来电人反映：家里老人行动不便，想了解居家养老上门服务怎么申请。",
    ],
    "childcare": [
        "小区里没有儿童游乐设施，孩子放学后只能在停车场玩，太危险了，希望建个儿童活动场地。",
        "双职工家庭孩子两岁没人带，希望社区开办普惠托育点。",
        "小区滑梯秋千都坏了好久，小朋友没地方玩，请物业修一修儿童游乐区。",
    ],
    "accessibility": [
        "单元门口只有台阶没有坡道，坐轮椅的老人根本出不了门，希望加装无障碍坡道。",
        "人行道上的盲道被占用、断断续续，视障人士走着很危险。",
        "楼梯两边没有扶手，腿脚不好的老人上下楼容易摔倒，建议安装扶手。",
    ],
    "property_mgmt": [
        "物业公司只收钱不办事，物业费年年涨，服务却越来越差，业主要求更换物业。",
        "来电人反映：小区业委会成立两年了，维修资金怎么用从来不公示。",
        "我们是无物业的老小区，没人管理，希望街道帮忙引进物业服务。",
    ],
    "sanitation": [
        "小区垃圾站的垃圾好几天没人清运，堆成小山，苍蝇蚊子到处飞。",
        "来电人反映：楼下的垃圾桶满了也没人收，保洁员一周才来一次。",
        "小区垃圾分类只是摆了几个桶，大家还是乱扔，卫生死角没人打扫。",
    ],
    "pollution": [
        "楼下新开的烧烤店油烟直接往楼上排，家里窗户都不敢开，油烟味太重。",
        "附近工厂晚上偷偷排放废气，刺鼻的气味让人头晕，请环保部门查一查。",
        "小区旁边的河道又黑又臭，夏天气味熏人，希望治理河道黑臭水体。",
    ],
    "noise": [
        "旁边工地每天夜里十二点还在施工，噪音吵得人睡不着觉。",
        "来电人反映：小区广场舞音响开得太大，每晚吵到十点，影响孩子学习。",
        "楼下酒吧每天深夜音乐震天响，噪音扰民严重，请相关部门管一管。",
    ],
    "greening": [
        "小区的树长得太高了，挡住了低层住户的阳光，枝条都伸到窗户里了，希望修剪一下。",
        "希望在社区空地上建一个口袋公园，放一些健身器材和休闲座椅。",
        "小区绿化带杂草丛生，没人养护，健身器材也坏了。",
    ],
    "roads": [
        "小区门口的路坑坑洼洼，下雨天到处是水坑，电动车经常摔倒，请尽快修路。",
        "这个路口没有红绿灯，上下学高峰车辆和行人抢道，建议安装信号灯。",
        "希望在我们小区附近增设公交站点，现在坐公交要走二十分钟。",
    ],
    "fire_safety": [
        "小区消防通道被杂物和车辆长期堵塞，真着火了消防车根本进不来。",
        "来电人反映：楼道里的消防栓没有水，灭火器也过期了，消防设施形同虚设。",
        "老小区的消防设施缺失，楼里连一个灭火器都没有，存在很大火灾隐患。",
    ],
    "building_safety": [
        "我家房子墙体开裂越来越严重，裂缝都能塞进手指了，担心房屋安全。",
        "来电人反映：顶楼屋面漏水，一下雨天花板就往下滴水，墙皮发霉。",
        "这栋楼是八十年代建的，房屋老化严重，楼道台阶破损，希望鉴定是不是危房。",
    ],
    "illegal_construction": [
        "一楼住户私自扩建院子，把公共绿地圈起来盖了个棚子，属于违建，请城管拆除。",
        "顶楼业主在楼顶私搭乱建加盖了一层，影响楼体安全，请执法部门查处。",
        "有人在小区空地上违规搭建板房出租，占用公共空间。",
    ],
    "security": [
        "小区门禁坏了几个月了，外来人员随便进出，最近好几户家里被盗。",
        "希望在小区主要路口安装监控，最近电动车丢了好几辆。",
        "来电人反映：小区没有封闭管理，陌生人随意进入，晚上很不安全。",
    ],
    "renovation": [
        "我们小区已经列入老旧小区改造名单了，请问什么时候开工？改造方案能不能公示一下？",
        "来电人咨询：棚户区改造的征收补偿标准是多少，安置房什么时候能回迁？",
        "老旧小区改造施工质量太差，刚铺的路面就裂了，希望加强监管。",
    ],
    "other": [
        "我在公司上班三个月了，老板一直拖欠工资不发，请问该去哪里投诉？",
        "孩子今年上小学，想咨询一下我们片区对口的是哪所学校，入学需要准备什么材料？",
        "来电人咨询：灵活就业人员的社保怎么缴纳，医保报销比例是多少。",
    ],
}

CASES = [(code, text) for code, texts in EXAMPLES.items() for text in texts]


def test_every_theme_has_examples():
    assert set(EXAMPLES) == set(THEME_CODES)
    assert all(len(v) >= 3 for v in EXAMPLES.values())


def test_themes_file_matches_themes_md():
    assert len(THEMES) == 24
    assert THEME_CODES[0] == "parking" and THEME_CODES[-1] == OTHER
    assert theme_name("ev_charging") == "充电设施"
    assert theme_name("renovation") == "更新改造与征拆"
    assert MAX_THEMES == 3


@pytest.mark.parametrize("code, text", CASES, ids=[f"{c}-{i % 3}" for i, (c, _) in enumerate(CASES)])
def test_hand_picked_example_gets_its_theme_first(tagger, code, text):
    r = tagger.tag(text)
    assert r.codes[0] == code, (text, r.themes)
    assert not r.needs_review, (text, r.themes)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我们小区的停车位本来就不够，物业还乱收停车费", {"parking", "property_mgmt"}),
        ("改造后下水道还是堵，老旧小区改造的质量谁来管", {"renovation", "drainage"}),
        ("楼道里电动车飞线充电，消防通道也被堵了", {"ev_charging", "fire_safety"}),
    ],
)
def test_multi_theme_records_get_both_themes(tagger, text, expected):
    r = tagger.tag(text)
    assert expected <= set(r.codes), r.themes


def test_lighting_not_security_when_the_ask_is_lights(tagger):
    # THEMES.md: "小区没有路灯晚上不安全" is lighting (security only if theft or safety is the ask)
    assert tagger.tag("小区没有路灯晚上不安全").codes == ["lighting"]


def test_between_one_and_three_themes_and_other_alone(tagger):
    texts = [t for _, t in CASES] + [
        "小区问题太多了：停车难，下水道堵，路灯不亮，电梯老坏，垃圾没人收，物业不管事，晚上还有广场舞。",
        "公司拖欠工资，另外小区门口的路也坏了。",
        "请问医保怎么报销，还有孩子上学的事。",
    ]
    for r in tagger.tag_batch(texts, n_jobs=1):
        assert 1 <= len(r.themes) <= 3, r.themes
        assert len(set(r.codes)) == len(r.codes)
        assert set(r.codes) <= set(THEME_CODES)
        if OTHER in r.codes:
            assert r.codes == [OTHER], r.themes
        probs = [p for _, p in r.themes]
        assert probs == sorted(probs, reverse=True)
        assert all(0.0 <= p <= 1.0 for p in probs)


def test_other_is_never_mixed_even_when_its_probability_is_not_the_top(tagger):
    # decide() on a crafted probability row: other is high but second; it must not be added
    import numpy as np

    p = np.full(len(tagger.labels), 0.01)
    p[tagger.labels.index("parking")] = 0.95
    p[tagger.labels.index(OTHER)] = 0.9
    p[tagger.labels.index("roads")] = 0.9
    chosen, review = tagger.decide(p)
    codes = [tagger.labels[j] for j in chosen]
    assert codes[0] == "parking" and OTHER not in codes and not review
    # other on top: alone, however high the rest
    p[tagger.labels.index(OTHER)] = 0.99
    chosen, _ = tagger.decide(p)
    assert [tagger.labels[j] for j in chosen] == [OTHER]


def test_at_most_three_themes_even_when_many_are_probable(tagger):
    import numpy as np

    p = np.full(len(tagger.labels), 0.97)
    chosen, _ = tagger.decide(p)
    assert len(chosen) == 3


@pytest.mark.parametrize("text", ["谢谢你们", "收到", "测试一下", "暂无建议", "满意", "hello", "123456", ""])
def test_needs_review_when_no_theme_is_confident(tagger, text):
    r = tagger.tag(text)
    assert r.needs_review, r.themes
    assert r.themes[0][1] < tagger.review_threshold


def test_needs_review_follows_the_review_threshold(tagger):
    import numpy as np

    p = np.full(len(tagger.labels), 0.01)
    p[tagger.labels.index("gas")] = tagger.review_threshold - 0.01
    assert tagger.decide(p)[1] is True
    p[tagger.labels.index("gas")] = tagger.review_threshold + 0.01
    assert tagger.decide(p)[1] is False


def test_tag_result_dict_shape(tagger):
    d = tagger.tag("小区路灯坏了").to_dict()
    assert set(d) == {"themes", "urgent", "needs_review", "model_version"}
    assert d["themes"][0]["code"] == "lighting"
    assert isinstance(d["themes"][0]["probability"], float)
    assert d["model_version"] == tagger.version


def test_tag_batch_matches_tag(tagger):
    texts = [t for _, t in CASES[:20]]
    batch = tagger.tag_batch(texts, n_jobs=1)
    assert [r.themes for r in batch] == [tagger.tag(t).themes for t in texts]


def test_parallel_tag_batch_matches_in_process(tagger):
    from nlp.tagger import PARALLEL_MIN_TEXTS

    texts = [t for _, t in CASES] * (PARALLEL_MIN_TEXTS // len(CASES) + 1)
    assert len(texts) >= PARALLEL_MIN_TEXTS
    single = tagger.tag_batch(texts, n_jobs=1)
    multi = tagger.tag_batch(texts, n_jobs=2, chunk_size=64)
    assert [(r.codes, r.urgent, r.needs_review) for r in multi] == [(r.codes, r.urgent, r.needs_review) for r in single]


def test_model_metadata_is_versioned(tagger):
    md = tagger.metadata
    assert tagger.version.startswith("m") and md["version"] == tagger.version
    assert len(md["data_hash"]) == 64
    assert md["mode"] == "themes" and md["labels"] == THEME_CODES
    assert md["n_records"] >= 2400
    assert min(md["label_counts"].values()) >= 80
    assert 0.0 < md["scores"]["cv"]["micro_f1"] <= 1.0
