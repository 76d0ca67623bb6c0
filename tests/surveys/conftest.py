"""Fixtures for survey tests: a small estate with a roster and codes, and a stand-in theme tagger."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from portal.accounts.models import Role
from portal.areas.models import Occupancy
from tests.helpers import make_community, make_estate, make_household, make_street, make_user
from tests.surveys.builders import give_code, make_survey


@dataclass
class FakeResult:
    themes: list
    urgent: bool = False
    needs_review: bool = False
    model_version: str = "fake-1"


KEYWORDS = {"停车": "parking", "漏水": "building_safety", "电梯": "elevator", "燃气": "gas", "垃圾": "sanitation"}


def fake_tag(text: str) -> FakeResult:
    themes = [(code, 0.9) for word, code in KEYWORDS.items() if word in text] or [("other", 0.6)]
    return FakeResult(themes[:3], urgent="漏气" in text)


@pytest.fixture
def fake_tagger(monkeypatch):
    """Tagging without the trained model: tests of everything but the model itself."""
    import portal.core.tagging as tagging

    monkeypatch.setattr(tagging, "tag_texts", lambda texts: [fake_tag(t) for t in texts])


@pytest.fixture
def estate_world(app):
    """桂花苑 (和平街道): building 3 with two units, building 5; a tenant; codes for three households."""
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    guihua = make_estate(make_community(heping, "桂花社区"), "桂花苑")
    households = {
        "301": make_household(guihua, "3", "2", "301", area="86.50"),
        "302": make_household(guihua, "3", "2", "302", area="72.30"),
        "101": make_household(guihua, "3", "1", "101", area="90.00"),
        "501": make_household(guihua, "5", "1", "501", area="60.00", occupancy=Occupancy.tenant),
    }
    codes = {"301": give_code(households["301"], "123456"), "302": give_code(households["302"], "654321"),
             "501": give_code(households["501"], "111222")}
    survey = make_survey([guihua])
    return {"heping": heping, "xinhua": xinhua, "estate": guihua, "households": households, "codes": codes,
            "survey": survey, "staff": make_user(Role.street_staff, street=heping),
            "other_staff": make_user(Role.street_staff, street=xinhua), "admin": make_user(Role.district_admin)}


def door(world, who="301", **changes):
    """The identify form as the resident of household `who` fills it in (with `changes` typed instead)."""
    household = world["households"][who]
    data = {"estate_id": world["estate"].id, "building": household.building, "unit": household.unit,
            "room": household.room, "code": world["codes"].get(who, "000000")}
    data.update(changes)
    return data
