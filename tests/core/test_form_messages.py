"""WTForms' and Flask-WTF's default messages reach users in Chinese: the table covers every message WTForms
ships, every form of the portal uses it, and bogus posts to real forms show no English."""
import html
import io
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
import wtforms
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import Form as PlainForm
from wtforms.i18n import get_translations

import portal
from portal.accounts.models import Role
from portal.core.forms import TRANSLATIONS, Form
from tests.helpers import login, make_community, make_estate, make_street, make_user

ENGLISH = re.compile(r"[A-Za-z]{3,}")
ALLOWED_ASCII = {"MAC", "URL", "UUID", "docx", "txt", "xlsx", "csv"}  # names, not English sentences


def english_words(text: str) -> set[str]:
    text = re.sub(r"%\(\w+\)[sd]|\{\w+\}", "", text)  # placeholders the message is formatted with
    return set(ENGLISH.findall(text)) - ALLOWED_ASCII


def pot_messages() -> list[tuple[str, str | None]]:
    """(msgid, msgid_plural) of every message in the installed WTForms' template catalogue."""
    pot = (Path(wtforms.__file__).parent / "locale" / "wtforms.pot").read_text(encoding="utf-8")
    found = []
    for block in pot.split("\n\n"):
        singular = re.search(r'^msgid "(.+)"$', block, re.M)
        plural = re.search(r'^msgid_plural "(.+)"$', block, re.M)
        if singular:
            found.append((singular[1].replace('\\"', '"'), plural[1].replace('\\"', '"') if plural else None))
    return found


def test_every_wtforms_message_is_chinese():
    messages = pot_messages()
    assert len(messages) >= 35  # the catalogue was read
    for singular, plural in messages:
        for text in ([TRANSLATIONS.gettext(singular)] if plural is None else
                     [TRANSLATIONS.ngettext(singular, plural, 1), TRANSLATIONS.ngettext(singular, plural, 3)]):
            assert re.search(r"[\u4e00-\u9fff]", text) and not english_words(text), (singular, text)


TRADITIONAL_ONLY = set("這個無選擇數欄長須與誤錄檢請為應該輸載檔項確點")


def test_the_messages_are_simplified_chinese():
    ours = "".join(TRANSLATIONS.gettext(s) if p is None else TRANSLATIONS.ngettext(s, p, 2) for s, p in pot_messages())
    assert not TRADITIONAL_ONLY & set(ours)
    # the fallback catalogue is WTForms' "zh" (simplified; "zh_TW" is the traditional one)
    bundled = get_translations(["zh"])
    fallback = "".join(bundled.gettext(s) for s, p in pot_messages() if p is None)
    assert "不是有效的选择" in fallback and not TRADITIONAL_ONLY & set(fallback)
    assert TRADITIONAL_ONLY & set(get_translations(["zh_TW"]).gettext("Not a valid choice."))


def test_a_message_without_a_translation_falls_back_to_chinese():
    assert TRANSLATIONS.gettext("Some message a later WTForms adds.") == "填写的内容不符合要求，请检查。"
    assert TRANSLATIONS.gettext("File must be between 0 and 1048576 bytes.") == "文件大小应在 0–1048576 字节之间。"


def _portal_form_classes():
    for module in pkgutil.walk_packages(portal.__path__, "portal."):
        if module.name.rsplit(".", 1)[-1] in {"forms", "priority_forms"}:
            importlib.import_module(module.name)
    seen, stack = [], [PlainForm]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("portal."):
                seen.append(sub)
    return seen


def test_every_portal_form_uses_the_chinese_messages(app):
    classes = _portal_form_classes()
    assert len(classes) > 30
    with app.test_request_context():
        for cls in classes:
            form = cls(formdata=None) if issubclass(cls, Form) else cls()
            assert form.meta.get_translations(form) is TRANSLATIONS, cls


def test_file_validators_default_messages(app):
    class Upload(Form):
        file = FileField("文件", validators=[FileRequired(), FileAllowed(["csv"]), FileSize(max_size=10)])

    with app.test_request_context(method="POST"):
        empty = Upload(formdata=MultiDict(), meta={"csrf": False})
        assert not empty.validate() and empty.file.errors == ["此项必填。"]
        exe = FileStorage(stream=io.BytesIO(b"MZ"), filename="a.exe")
        wrong = Upload(formdata=MultiDict({"file": exe}), meta={"csrf": False})
        assert not wrong.validate() and wrong.file.errors == ["不支持这种文件，只能上传：csv。"]
        big = FileStorage(stream=io.BytesIO(b"x" * 50), filename="a.csv")
        large = Upload(formdata=MultiDict({"file": big}), meta={"csrf": False})
        assert not large.validate() and large.file.errors == ["文件大小应在 0–10 字节之间。"]


# --- bogus posts to real forms --------------------------------------------------------------------

@pytest.fixture
def world(app):
    heping = make_street("和平街道")
    community = make_community(heping, "桂花社区")
    return {"heping": heping, "community": community, "guihua": make_estate(community, "桂花苑"),
            "staff": make_user(Role.street_staff, street=heping), "admin": make_user(Role.district_admin)}


def shown_errors(page: str) -> list[str]:
    errors = re.findall(r'<p class="field-error">(.*?)</p>', page, re.S)
    errors += re.findall(r'<div class="flash flash-error"[^>]*>(.*?)</div>', page, re.S)
    return [html.unescape(e).strip() for e in errors]


def assert_chinese_errors(response, expected=()):
    page = response.get_data(as_text=True)
    errors = shown_errors(page)
    assert response.status_code in (200, 422) and errors, page[:2000]
    for error in errors:
        assert not english_words(error), errors
    for phrase in ("valid choice", "Not a valid", "This field is required", "Field must", "Number must",
                   "could not coerce", "character"):
        assert phrase not in page
    for message in expected:
        assert message in errors, errors
    return errors


MEETING = {"kind": "forum", "title": "桂花苑改造问需座谈会", "held_on": "2024-03-05", "attendee_count": "23",
           "organiser": "桂花社区居委会", "minutes_text": "居民：希望加装电梯。"}


@pytest.mark.parametrize("overrides,expected", [
    ({"estate_ids": ["999999"]}, ["所选的项不在可选范围内。"]),  # was "'999999' is not a valid choice for this field."
    ({"estate_ids": ["999999", "888888"]}, ["所选的项不在可选范围内。"]),
    ({"estate_ids": ["x"]}, ["所选的项中有无效的选择。"]),
    ({"kind": "bogus"}, ["不是有效的选择。"]),
    ({"attendee_count": "很多"}, ["不是有效的整数。"]),
    ({"title": "长" * 200}, ["会议名称最多 128 字。"]),
])
def test_meeting_form(client, world, overrides, expected):
    login(client, world["staff"])
    data = {**MEETING, "estate_ids": [world["guihua"].id], **overrides}
    assert_chinese_errors(client.post("/meetings/new", data=data, content_type="multipart/form-data"), expected)


def test_survey_form(client, world):
    login(client, world["staff"])
    data = {"title": "加装电梯意愿调查", "estate_ids": ["999999"], "matter_type": "bogus", "tally_scope": "estate",
            "opens_on": "明天", "closes_on": "2026-02-30"}
    errors = assert_chinese_errors(client.post("/surveys/new", data=data))
    assert {"所选的项不在可选范围内。", "不是有效的选择。", "不是有效的日期值。"} <= set(errors)


def test_estate_form(client, world):
    login(client, world["admin"])
    data = {"community_id": "abc", "name": "名" * 65, "household_count": "很多", "built_year": "1.5",
            "latitude": "北纬", "longitude": "东经", "aliases": "", "address_patterns": ""}
    errors = assert_chinese_errors(client.post("/areas/estates/new", data=data))
    assert {"不是有效的选择。", "最多 64 个字。", "不是有效的整数。", "不是有效的数字。"} <= set(errors)


def test_ticket_form(client, world):
    login(client, make_user(Role.operator))
    data = {"request_type": "bogus", "content": "楼道灯坏了", "caller_phone": "1" * 40}
    errors = assert_chinese_errors(client.post("/tickets/new", data=data))
    assert {"不是有效的选择。", "最多 32 个字。"} <= set(errors)


def test_public_suggestion_form(client, world):
    data = {"estate_id": "abc", "content": "好", "contact_phone": "1" * 30, "website": ""}
    assert_chinese_errors(client.post("/suggest/", data=data))
