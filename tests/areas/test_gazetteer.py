"""Free-text address → estate, with confidence."""
from portal.areas.gazetteer import AUTO_PLACE_CONFIDENCE, EstateEntry, Gazetteer

ESTATES = [
    EstateEntry(1, 10, "桂花苑", ("桂花小区",), ("桂花路18号", "桂花路20-36号")),
    EstateEntry(2, 10, "桂花苑二期", (), ("桂花路40号",)),
    EstateEntry(3, 20, "向阳新村", ("向阳村",), ("向阳路5号", "向阳路7-15号")),
    EstateEntry(4, 20, "幸福里", (), ()),
    EstateEntry(5, 10, "幸福里", (), ()),  # the same name in another street
]
G = Gazetteer(ESTATES)


def test_name_in_address():
    match = G.match("城南区和平街道桂花苑3栋2单元")
    assert (match.estate_id, match.street_id) == (1, 10) and match.confidence >= 0.95


def test_longer_name_wins():
    assert G.match("桂花苑二期5栋").estate_id == 2


def test_alias_and_full_width_and_spaces():
    match = G.match("向 阳 村 １２栋")
    assert match.estate_id == 3 and AUTO_PLACE_CONFIDENCE <= match.confidence < 0.95


def test_road_number_in_range():
    match = G.match("城南区桂花路２８号附近")
    assert match.estate_id == 1 and match.confidence == 0.85
    assert G.match("向阳路9号").estate_id == 3


def test_road_without_matching_number_is_low_confidence():
    match = G.match("桂花路100号")
    assert match is not None and match.confidence < AUTO_PLACE_CONFIDENCE


def test_shared_name_is_not_trusted():
    match = G.match("幸福里小区门口")
    assert match.confidence < AUTO_PLACE_CONFIDENCE


def test_content_is_a_fallback_when_address_is_empty():
    assert G.match("", "来电人反映向阳新村3栋楼道灯坏了").estate_id == 3
    assert G.match("桂花路18号", "向阳新村").estate_id == 1


def test_nothing_matches():
    assert G.match("人民医院门诊部") is None
    assert G.match("") is None
