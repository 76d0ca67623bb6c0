"""Fixtures of the nlp tests: the shipped theme model (session-wide) and small hand-written CSVs.

``theme_model_path`` comes from ``tests/conftest.py``: the shipped ``nlp/models/default.joblib``, trained
once into a temp dir when it is missing.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tagger(theme_model_path):
    from nlp.tagger import load_model

    return load_model(theme_model_path)


def write_csv(path: Path, header: list[str], rows: list[tuple]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


# A tiny themes corpus for fast training in tests: four themes, varied registers, written for the tests.
SMALL_THEMES = [
    ("来电人反映：小区车位太少，晚上回来只能停在马路边。", "parking", ""),
    ("楼下那辆僵尸车落满了灰，占着车位一年多没人动。", "parking", ""),
    ("小区门口乱停车，救护车都开不进来。", "parking", ""),
    ("停车收费太贵了，一个月要四百块。", "parking", ""),
    ("希望规划一些地面停车位，现在车比位多。", "parking", ""),
    ("外来车辆随便进小区占位，业主自己反而没处停。", "parking", ""),
    ("地下车库一直空着不开放，地面停车乱成一团。", "parking", ""),
    ("来电人反映：三号楼下水道堵了，污水从井盖往外冒。", "drainage", ""),
    ("一下暴雨小区门口就积水，排水管太细。", "drainage", ""),
    ("化粪池满了好久没人清掏，臭味很大。", "drainage", ""),
    ("雨污分流工程做了一半就停了，雨水管还是接在污水管上。", "drainage", ""),
    ("厨房下水管老是堵，疏通了没两天又堵。", "drainage", ""),
    ("下水道返臭，夏天一楼根本不敢开窗。", "drainage", ""),
    ("路边的雨水箅子被垃圾堵死了，一下雨就淹。", "drainage", ""),
    ("粪水从地漏冒出来流进了一楼住户家里。", "drainage", "1"),
    ("工地晚上十一点还在打桩，吵得睡不着。", "noise", ""),
    ("广场舞音响声音太大，每天吵到九点多。", "noise", ""),
    ("楼下烧烤摊半夜喧哗，噪音扰民。", "noise", ""),
    ("隔壁商铺门口的大喇叭整天循环播放促销广告。", "noise", ""),
    ("夜间施工没有审批，周末早上六点就开始砸墙。", "noise", ""),
    ("酒吧的低音炮震得玻璃都响。", "noise", ""),
    ("空调外机噪音很大，晚上嗡嗡响。", "noise", ""),
    ("公司拖欠了我三个月工资，去哪里投诉？", "other", ""),
    ("孩子上小学的学区是怎么划分的？", "other", ""),
    ("医保异地报销需要什么手续？", "other", ""),
    ("灵活就业人员的社保怎么交？", "other", ""),
    ("个人所得税的专项扣除在哪里申报？", "other", ""),
    ("超市卖过期食品，要求市场监管部门查处。", "other", ""),
    ("想咨询一下公积金贷款的额度。", "other", ""),
    ("小区停车位不够，下水道也三天两头堵。", "parking|drainage", ""),
]

# A tiny single-label corpus in the ``label`` format (any label set), with a split column.
SMALL_LABELS = [
    ("公交车司机开车太猛，乘客差点摔倒。", "交通运输", "train"),
    ("希望开通一条到高铁站的公交线路。", "交通运输", "train"),
    ("出租车拒载现象严重，晚上打不到车。", "交通运输", "train"),
    ("高速公路收费站排队太长。", "交通运输", "train"),
    ("地铁站出口太少，早高峰挤得走不动。", "交通运输", "train"),
    ("公交站台没有遮雨棚。", "交通运输", "train"),
    ("网约车平台乱加价。", "交通运输", "test"),
    ("公交车晚上八点就停运了，太早了。", "交通运输", "test"),
    ("学校乱收补课费，家长敢怒不敢言。", "教育文体", "train"),
    ("幼儿园学位不够，孩子上不了公办园。", "教育文体", "train"),
    ("老师体罚学生，要求教育局调查。", "教育文体", "train"),
    ("希望社区图书馆延长开放时间。", "教育文体", "train"),
    ("中考体育加分政策不公平。", "教育文体", "train"),
    ("学校食堂饭菜质量差，价格还贵。", "教育文体", "train"),
    ("小学划片入学的范围怎么查？", "教育文体", "test"),
    ("体育馆收费太高，学生去不起。", "教育文体", "test"),
    ("医院挂号太难，专家号一号难求。", "卫生计生", "train"),
    ("社区卫生服务中心药品不全。", "卫生计生", "train"),
    ("二孩生育登记需要什么材料？", "卫生计生", "train"),
    ("医生态度恶劣，收红包。", "卫生计生", "train"),
    ("疫苗接种点排队太久。", "卫生计生", "train"),
    ("诊所无证行医，要求卫健委查处。", "卫生计生", "train"),
    ("医院停车难，看病要排两个小时的车。", "卫生计生", "test"),
    ("医保报销比例太低，住院花费太大。", "卫生计生", "test"),
]
