"""你说我办 (no login): estates by street, what residents raised per estate, the projects there; nothing
personal or free-text ever shown; rate-limited; bad ids answered with 404, not 500."""
from datetime import timedelta

import pytest

from portal.core.time import utcnow
from portal.demand.models import SignalSource
from portal.demand.services import SignalInput, replace_signals
from portal.extensions import db
from portal.projects.gaps import local_today
from portal.projects.models import ProjectStatus
from tests.helpers import make_community, make_estate, make_household, make_street, make_ticket
from tests.projects.builders import add_signals, make_project
from tests.review.builders import make_point, make_suggestion, make_text_answer

# Distinctive personal data and free text seeded into every source; none of it may appear publicly.
SECRETS = {
    "ticket_text": "紫藤花架下面的窨井盖翘起来了绊倒了我家老伴",
    "caller": "欧阳娜娜",
    "phone": "13912345678",
    "address": "桂花路18号7栋2单元601",
    "resolution": "已派维修班组更换窨井盖青龙偃月",
    "suggestion_text": "建议把三号楼后面那片荒地改成菜园子吧",
    "contact": "司马光明",
    "contact_phone": "18698765432",
    "reply": "感谢您的建议街道正在研究白鹤亮翅",
    "answer_text": "希望楼下的晾衣杆能装回来麒麟踏云",
    "minutes_text": "5号楼张阿姨：化粪池三天两头冒水鹤立鸡群",
    "room": "1704",
    "owner_id": "430102195001011234",
}


@pytest.fixture
def world(app):
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    community = make_community(heping, "桂花社区")
    guihua = make_estate(community, "桂花苑", household_count=200, built_year=1994)
    quiet = make_estate(community, "纺织厂宿舍", household_count=96)
    xinhuali = make_estate(make_community(xinhua, "新华社区"), "新华里", household_count=300)
    return {"heping": heping, "xinhua": xinhua, "guihua": guihua, "quiet": quiet, "xinhuali": xinhuali}


def seed_personal(estate):
    at = utcnow() - timedelta(days=3)
    ticket = make_ticket(SECRETS["ticket_text"], estate=estate, street=estate.street, themes=("drainage",),
                         caller_name=SECRETS["caller"], caller_phone=SECRETS["phone"], address=SECRETS["address"],
                         resolution=SECRETS["resolution"], received_at=at)
    replace_signals(SignalSource.hotline, ticket.id, [SignalInput(estate.id, "drainage", at, SECRETS["phone"])])
    suggestion = make_suggestion(estate, SECRETS["suggestion_text"], themes=("greening",))
    suggestion.contact_name, suggestion.contact_phone, suggestion.reply = (
        SECRETS["contact"], SECRETS["contact_phone"], SECRETS["reply"])
    replace_signals(SignalSource.suggestion, suggestion.id,
                    [SignalInput(estate.id, "greening", at, SECRETS["contact_phone"])])
    answer = make_text_answer(estate, SECRETS["answer_text"], themes=("sanitation",))
    replace_signals(SignalSource.survey, answer.id, [SignalInput(estate.id, "sanitation", at, "household-1")])
    point = make_point(estate, SECRETS["minutes_text"], themes=("drainage",))
    replace_signals(SignalSource.minutes, point.id, [SignalInput(estate.id, "drainage", at, "speaker-1")])
    make_household(estate, building="7", unit="2", room=SECRETS["room"], owner_id_number=SECRETS["owner_id"])
    db.session.commit()


def public_pages(client, world):
    pages = ["/nishuo/"] + [f"/nishuo/estates/{world[name].id}" for name in ("guihua", "quiet", "xinhuali")]
    return {url: client.get(url) for url in pages}


def test_index_lists_estates_by_street_without_login(client, world):
    add_signals(world["guihua"], "parking", [1, 2, 3], as_of=local_today())
    make_project([world["guihua"]], ["parking"], status=ProjectStatus.approved)
    response = client.get("/nishuo/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.index("和平街道") < html.index("桂花苑") < html.index("新华街道") < html.index("新华里")
    assert "反映 3 件" in html and "项目 1 个" in html
    assert f'href="/nishuo/estates/{world["xinhuali"].id}"' in html


def test_estate_page_counts_by_theme_and_source_and_lists_projects(client, world):
    today = local_today()
    estate = world["guihua"]
    add_signals(estate, "drainage", [1, 10, 100], as_of=today)
    add_signals(estate, "drainage", [200], as_of=today, source=SignalSource.survey)
    add_signals(estate, "parking", [5], as_of=today)
    add_signals(estate, "parking", [400], as_of=today)  # over a year ago: not counted
    add_signals(world["xinhuali"], "drainage", [1, 2], as_of=today)  # another estate
    make_project([estate], ["drainage"], name="桂花苑雨污分流改造", status=ProjectStatus.in_progress,
                 started_on=today - timedelta(days=20))
    make_project([estate], ["parking"], name="桂花苑停车位改造", status=ProjectStatus.proposed)
    done = make_project([estate], ["elevator"], name="桂花苑加装电梯", status=ProjectStatus.completed,
                        started_on=today - timedelta(days=500), completed_on=today - timedelta(days=300))
    add_signals(estate, "elevator", [501, 502, 503, 504], as_of=today)  # before the works, 2.0 per 100
    make_project([world["xinhuali"]], ["drainage"], name="新华里排水改造")
    html = client.get(f"/nishuo/estates/{estate.id}").get_data(as_text=True)
    assert '<strong id="raised-total">5</strong>' in html  # 4 drainage + 1 parking in the last 365 days
    themes = html[html.index('id="raised-themes"'):html.index('id="raised-sources"')]
    assert themes.index("排水防涝") < themes.index("停车管理") and "电梯" not in themes
    assert "12345 热线 4" in html and "意愿调查 1" in html
    assert html.index("桂花苑雨污分流改造") < html.index("桂花苑停车位改造") < html.index("桂花苑加装电梯")
    assert "实施中" in html and "储备" in html and "已完成" in html and "新华里排水改造" not in html
    assert "减少了 100%" in html  # the completed one: 2.0 per 100 before, none after
    assert done.id


def test_estate_without_demand_or_projects_and_unknown_estates(client, world):
    html = client.get(f"/nishuo/estates/{world['quiet'].id}").get_data(as_text=True)
    assert "近一年没有收到本小区的诉求" in html and "本小区暂无改造项目" in html
    for url in ("/nishuo/estates/999999", "/nishuo/estates/abc", "/nishuo/estates/0",
                "/nishuo/estates/99999999999999999999"):
        assert client.get(url).status_code == 404, url


def test_public_pages_leak_nothing_personal_or_free_text(client, world):
    for name in ("guihua", "xinhuali"):
        seed_personal(world[name])
    make_project([world["guihua"]], ["drainage"], name="桂花苑排水改造", status=ProjectStatus.in_progress)
    pages = public_pages(client, world)
    guihua = pages[f"/nishuo/estates/{world['guihua'].id}"].get_data(as_text=True)
    assert "排水防涝" in guihua and "绿化与公共空间" in guihua and "环境卫生" in guihua  # the counts are there
    assert "座谈会 1" in guihua and "网上建议 1" in guihua
    for url, response in pages.items():
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        for label, secret in SECRETS.items():
            assert secret not in html, (url, label)
        assert "**" not in html and "****" not in html


def test_public_pages_are_rate_limited(client, world, app):
    app.config["PUBLIC_PROJECTS_RATE_LIMIT"] = "3 per minute"
    for _ in range(3):
        assert client.get("/nishuo/").status_code == 200
    blocked = client.get(f"/nishuo/estates/{world['guihua'].id}")
    assert blocked.status_code == 429 and "访问太频繁" in blocked.get_data(as_text=True)
    assert "Retry-After" in blocked.headers


def test_home_page_links_to_nishuo(client, world):
    assert 'href="/nishuo/"' in client.get("/").get_data(as_text=True)
