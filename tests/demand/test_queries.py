"""Every aggregate equals a count computed directly from the signal rows — also after records' signals are
replaced or removed, since the dashboard reads the rollup that replace_many keeps; the hot-spot rule; scoping."""
import random
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from portal.accounts.models import Role
from portal.core.workdays import to_local, to_utc_naive
from portal.demand import queries
from portal.demand.models import DemandSignal, SignalSource
from portal.demand.queries import DemandFilters
from portal.demand.models import DemandDailyCount, DemandMonthlyCount, DemandStreetDailyCount
from portal.demand.services import SignalInput, rebuild_rollup, replace_many, replace_signals
from portal.extensions import db
from tests.helpers import make_community, make_estate, make_street, make_user

THEMES = ["parking", "drainage", "elevator", "sanitation"]
TODAY = date(2026, 11, 20)  # a Friday


@pytest.fixture
def world(app):
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    estates = [make_estate(make_community(heping), "桂花苑", household_count=200),
               make_estate(make_community(heping), "向阳新村", household_count=80),
               make_estate(make_community(xinhua), "新华里", household_count=300)]
    rng = random.Random(5)
    rows = []
    for i in range(1500):
        estate = rng.choice(estates)
        local = datetime(2026, 11, 20, 23, 59) - timedelta(minutes=rng.randint(0, 60 * 24 * 200))
        rows.append({"source": rng.choice(list(SignalSource)), "record_id": str(i), "estate_id": estate.id,
                     "street_id": estate.street_id, "theme": rng.choice(THEMES), "urgent": rng.random() < 0.1,
                     "occurred_at": to_utc_naive(local), "reporter_key": f"r{i % 300}", "weight": 1.0,
                     "created_at": datetime(2026, 11, 21)})
    for source in SignalSource:  # written the way every source domain writes them
        replace_many(source, {r["record_id"]: [SignalInput(r["estate_id"], r["theme"], r["occurred_at"], r["reporter_key"],
                                                           urgent=r["urgent"])]
                              for r in rows if r["source"] == source})
    db.session.commit()
    return {"heping": heping, "xinhua": xinhua, "estates": estates, "rows": rows,
            "admin": make_user(Role.district_admin), "staff": make_user(Role.street_staff, street=heping)}


def direct(rows, filters, street_id=None):
    """The same filter, applied in Python to the raw rows."""
    out = []
    for r in rows:
        local_day = to_local(r["occurred_at"]).date()
        if not filters.date_from <= local_day <= filters.date_to:
            continue
        if street_id and r["street_id"] != street_id:
            continue
        if filters.estate_id and r["estate_id"] != filters.estate_id:
            continue
        if filters.theme and r["theme"] != filters.theme:
            continue
        if filters.source and r["source"] != filters.source:
            continue
        if filters.urgent and not r["urgent"]:
            continue
        out.append(r)
    return out


FILTER_CASES = [
    {},
    {"theme": "parking"},
    {"source": "survey", "urgent": "1"},
    {"date_from": "2026-10-01", "date_to": "2026-10-31"},
    {"date_from": "2026-06-01", "date_to": "2026-11-20", "theme": "elevator"},
    # part-months at both ends, read as days (short edge) and as the month minus its other days (long edge)
    {"date_from": "2026-06-03", "date_to": "2026-10-29"},
    {"date_from": "2026-05-28", "date_to": "2026-09-02", "source": "hotline"},
    {"date_from": "2026-07-10", "date_to": "2026-10-25", "urgent": "1"},
    {"date_from": "2026-08-14", "date_to": "2026-08-16", "source": "minutes", "urgent": "1"},
]


@pytest.mark.parametrize("args", FILTER_CASES)
def test_theme_distribution_total_and_heat_map_equal_direct_counts(world, args):
    filters = DemandFilters.from_args(args, today=TODAY)
    for user, street_id in ((world["admin"], None), (world["staff"], world["heping"].id)):
        expected = direct(world["rows"], filters, street_id)
        assert queries.total(filters, user) == len(expected)
        assert dict(queries.theme_distribution(filters, user)) == dict(Counter(r["theme"] for r in expected))
        cells = {(c.estate_id, c.theme): c.count for c in queries.heat_map(filters, user)}
        assert cells == dict(Counter((r["estate_id"], r["theme"]) for r in expected))


def test_heat_map_rate_per_100_households(world):
    filters = DemandFilters.from_args({}, today=TODAY)
    for cell in queries.heat_map(filters, world["admin"]):
        estate = next(e for e in world["estates"] if e.id == cell.estate_id)
        assert cell.per_100 == round(cell.count * 100 / estate.household_count, 2)


@pytest.mark.parametrize("granularity", ["week", "month"])
@pytest.mark.parametrize("date_from", ["2026-08-01", "2026-08-05"])
def test_trend_equals_direct_counts_in_local_time(world, granularity, date_from):
    filters = DemandFilters.from_args({"date_from": date_from, "date_to": "2026-11-20"}, today=TODAY)
    expected = Counter()
    for r in direct(world["rows"], filters):
        day = to_local(r["occurred_at"]).date()
        start = day - timedelta(days=day.weekday()) if granularity == "week" else day.replace(day=1)
        expected[start.isoformat()] += 1
    got = queries.trend(filters, world["admin"], granularity)
    assert {p: n for p, n in got if n} == dict(expected)
    assert got[0][0] == ({"2026-08-01": "2026-07-27", "2026-08-05": "2026-08-03"}[date_from]
                         if granularity == "week" else "2026-08-01")
    assert sum(n for _, n in got) == len(direct(world["rows"], filters))


def test_a_signal_just_after_local_midnight_counts_for_the_new_week(app):
    street = make_street()
    estate = make_estate(make_community(street), household_count=10)
    # Monday 2026-11-16 00:30 local = Sunday 2026-11-15 16:30 UTC
    db.session.add(DemandSignal(source=SignalSource.hotline, record_id="1", estate_id=estate.id, street_id=street.id,
                                theme="parking", occurred_at=datetime(2026, 11, 15, 16, 30), reporter_key="x"))
    db.session.flush()
    rebuild_rollup()
    db.session.commit()
    filters = DemandFilters.from_args({"date_from": "2026-11-09", "date_to": "2026-11-20"}, today=TODAY)
    assert queries.trend(filters, make_user(Role.district_admin)) == [("2026-11-09", 0), ("2026-11-16", 1)]


def test_hot_spot_rule():
    assert queries.is_hot(5, 0.0) and queries.is_hot(14, 3.1)
    assert not queries.is_hot(4, 0.0)  # too few to matter
    assert not queries.is_hot(9, 3.1)  # 9 < 2 × 3.1 + 3
    assert queries.is_hot(10, 3.5) and not queries.is_hot(10, 3.6)


def test_hot_spots_found_and_explained(app):
    street = make_street()
    estate = make_estate(make_community(street), "幸福里", household_count=100)
    end = datetime(2026, 11, 20, 12, 0)
    rows = []
    for week in range(1, 9):  # 3 drainage signals a week for 8 weeks: mean 3.0
        for k in range(3):
            rows.append((end - timedelta(weeks=week, hours=k + 1), "drainage"))
    for k in range(14):  # then 14 in the last week
        rows.append((end - timedelta(hours=k + 1), "drainage"))
    for k in range(6):  # parking: steady 6 this week and 6 a week before: not hot
        rows.append((end - timedelta(hours=k + 1), "parking"))
        for week in range(1, 9):
            rows.append((end - timedelta(weeks=week, hours=k + 1), "parking"))
    db.session.execute(insert(DemandSignal), [
        {"source": SignalSource.hotline, "record_id": str(i), "estate_id": estate.id, "street_id": street.id,
         "theme": theme, "occurred_at": to_utc_naive(at), "reporter_key": str(i), "urgent": False, "weight": 1.0,
         "created_at": end} for i, (at, theme) in enumerate(rows)])
    rebuild_rollup()
    db.session.commit()
    filters = DemandFilters.from_args({"date_to": "2026-11-20"}, today=TODAY)
    spots = queries.hot_spots(filters, make_user(Role.district_admin))
    assert [(s.estate_name, s.theme, s.current) for s in spots] == [("幸福里", "drainage", 14)]
    assert spots[0].explanation == "本期 14 件，过去 8 周均值 3.0"
    other_street = make_user(Role.street_staff, street=make_street())
    assert queries.hot_spots(filters, other_street) == []


def signal_rows():
    return [{"source": s.source, "record_id": s.record_id, "estate_id": s.estate_id, "street_id": s.street_id,
             "theme": s.theme, "urgent": s.urgent, "occurred_at": s.occurred_at, "local_day": s.local_day}
            for s in db.session.scalars(select(DemandSignal))]


def assert_aggregates_match(world, rows):
    for args in FILTER_CASES + [{"estate_id": str(world["estates"][1].id)}]:
        filters = DemandFilters.from_args(args, today=TODAY)
        for user, street_id in ((world["admin"], None), (world["staff"], world["heping"].id)):
            expected = direct(rows, filters, street_id)
            assert queries.total(filters, user) == len(expected), args
            assert dict(queries.theme_distribution(filters, user)) == dict(Counter(r["theme"] for r in expected)), args
            cells = {(c.estate_id, c.theme): c.count for c in queries.heat_map(filters, user)}
            assert cells == dict(Counter((r["estate_id"], r["theme"]) for r in expected)), args
            weekly = Counter()
            for r in expected:
                day = to_local(r["occurred_at"]).date()
                weekly[(day - timedelta(days=day.weekday())).isoformat()] += 1
            assert {p: n for p, n in queries.trend(filters, user) if n} == dict(weekly), args


def rollup_equals_group_by():
    from sqlalchemy import func

    grouped = {tuple(r[:-1]): r[-1] for r in db.session.execute(
        select(DemandSignal.estate_id, DemandSignal.local_day, DemandSignal.theme, DemandSignal.source,
               DemandSignal.urgent, DemandSignal.street_id, func.count())
        .group_by(DemandSignal.estate_id, DemandSignal.local_day, DemandSignal.theme, DemandSignal.source,
                  DemandSignal.urgent, DemandSignal.street_id))}
    rollup = {(r.estate_id, r.local_day, r.theme, r.source, r.urgent, r.street_id): r.n
              for r in db.session.scalars(select(DemandDailyCount))}
    return rollup == grouped and monthly_equals_signals()


def monthly_equals_signals():
    """Every monthly and street-daily row's columns equal counts over the signal rows they sum."""
    def split(key_of, model, row_key):
        expected = Counter()
        for s in db.session.scalars(select(DemandSignal)):
            for column in ("n", f"n_{s.source.value}") + (("n_urgent", f"n_urgent_{s.source.value}") if s.urgent else ()):
                expected[key_of(s) + (column,)] += 1
        got = Counter()
        for r in db.session.scalars(select(model)):
            for column in model.__table__.columns.keys():
                if column.startswith("n") and getattr(r, column):
                    got[row_key(r) + (column,)] = getattr(r, column)
        return got == expected

    return (split(lambda s: (s.estate_id, s.local_day.replace(day=1), s.theme, s.street_id), DemandMonthlyCount,
                  lambda r: (r.estate_id, r.month, r.theme, r.street_id))
            and split(lambda s: (s.street_id, s.local_day, s.theme), DemandStreetDailyCount,
                      lambda r: (r.street_id, r.local_day, r.theme)))


def test_local_day_is_the_shanghai_date_of_each_signal(world):
    rows = signal_rows()
    assert rows and all(r["local_day"] == to_local(r["occurred_at"]).date() for r in rows)
    assert rollup_equals_group_by()


def test_rollup_stays_exact_when_signals_are_replaced_or_removed(world):
    rng = random.Random(11)
    hotline = [r for r in world["rows"] if r["source"] == SignalSource.hotline]
    changed, removed = hotline[:60], hotline[60:90]
    guihua, xiangyang, xinhuali = world["estates"]
    # re-tagged, moved to another estate (and street), another day, two themes instead of one
    replace_many(SignalSource.hotline, {
        r["record_id"]: [SignalInput(rng.choice([guihua, xinhuali]).id, theme, r["occurred_at"] - timedelta(days=rng.randint(0, 40)),
                                     r["reporter_key"], urgent=not r["urgent"]) for theme in ("elevator", "parking")]
        for r in changed})
    replace_many(SignalSource.hotline, {r["record_id"]: [] for r in removed})
    replace_signals(SignalSource.minutes, "new-point", [SignalInput(xiangyang.id, "drainage", datetime(2026, 11, 19, 18, 0), "k")])
    db.session.commit()
    rows = signal_rows()
    assert len(rows) == len(world["rows"]) + 60 - 30 + 1
    assert rollup_equals_group_by()
    assert_aggregates_match(world, rows)
    # and removing every signal of a source leaves no count behind
    replace_many(SignalSource.survey, {r["record_id"]: [] for r in world["rows"] if r["source"] == SignalSource.survey})
    db.session.commit()
    assert rollup_equals_group_by()
    assert queries.total(DemandFilters.from_args({"source": "survey"}, today=TODAY), world["admin"]) == 0
    assert_aggregates_match(world, signal_rows())


def test_range_pieces_read_whole_months_and_the_cheaper_side_of_part_months():
    pieces = queries.range_pieces(date(2026, 6, 3), date(2026, 10, 29), data_until=date(2026, 12, 1))
    # June 3–30 is 28 days: read as June minus June 1–2; October 1–29 as October minus the 30th and 31st
    assert pieces.months == [date(2026, m, 1) for m in (6, 7, 8, 9, 10)]
    assert pieces.minus == [(date(2026, 6, 1), date(2026, 6, 2)), (date(2026, 10, 30), date(2026, 10, 31))]
    assert pieces.plus == []
    pieces = queries.range_pieces(date(2026, 8, 28), date(2026, 9, 2), data_until=date(2026, 12, 1))
    assert (pieces.months, pieces.minus) == ([], [])
    assert pieces.plus == [(date(2026, 8, 28), date(2026, 8, 31)), (date(2026, 9, 1), date(2026, 9, 2))]
    # the current month: the days after "today" have no rows, so the month minus its past days is cheaper
    pieces = queries.range_pieces(date(2026, 11, 1), date(2026, 11, 25), data_until=date(2026, 11, 26))
    assert pieces.months == [date(2026, 11, 1)] and pieces.minus == [(date(2026, 11, 26), date(2026, 11, 30))]


def test_future_signals_are_not_counted_by_a_month_read_whole(app):
    street = make_street()
    estate = make_estate(make_community(street), household_count=100)
    days = [date(2026, 11, 10), date(2026, 11, 28)]  # the 28th is after the range below
    replace_many(SignalSource.hotline, {str(i): [SignalInput(estate.id, "parking", to_utc_naive(datetime.combine(d, datetime.min.time()) + timedelta(hours=12)), f"r{i}")]
                                        for i, d in enumerate(days)})
    db.session.commit()
    filters = DemandFilters.from_args({"date_from": "2026-11-01", "date_to": "2026-11-25"}, today=TODAY)
    assert queries.total(filters, make_user(Role.district_admin)) == 1


def test_rebuild_rollup_equals_the_kept_rollup(world):
    before = {(r.estate_id, r.local_day, r.theme, r.source, r.urgent): r.n for r in db.session.scalars(select(DemandDailyCount))}
    rebuild_rollup()
    db.session.commit()
    after = {(r.estate_id, r.local_day, r.theme, r.source, r.urgent): r.n for r in db.session.scalars(select(DemandDailyCount))}
    assert before == after and sum(after.values()) == len(world["rows"])
    assert monthly_equals_signals()


def test_street_staff_cannot_widen_the_scope_with_another_streets_ids(world):
    xinhua_estate = world["estates"][2]
    staff = world["staff"]
    own = DemandFilters.from_args({}, today=TODAY).for_user(staff)
    for args in ({"street_id": str(world["xinhua"].id)}, {"estate_id": str(xinhua_estate.id)},
                 {"street_id": str(world["xinhua"].id), "estate_id": str(xinhua_estate.id)}):
        filters = DemandFilters.from_args(args, today=TODAY).for_user(staff)
        assert filters.street_id is None and filters.estate_id is None and filters.warnings
        assert queries.total(filters, staff) == queries.total(own, staff) == len(direct(world["rows"], own, world["heping"].id))
        assert xinhua_estate.id not in {c.estate_id for c in queries.heat_map(filters, staff)}
    # even unchecked filters never leak: the scope is applied on every query
    raw = DemandFilters.from_args({"estate_id": str(xinhua_estate.id)}, today=TODAY)
    assert queries.total(raw, staff) == 0 and queries.hot_spots(raw, staff) == []
    assert queries.records_for_theme(raw, staff, "parking") == []


@pytest.mark.parametrize("args", [
    {"date_from": "2026-13-40"}, {"date_to": "0001-01-01"}, {"date_from": "1900-01-01"}, {"estate_id": "abc"},
    {"estate_id": "99999999999999999999"}, {"street_id": "-3"}, {"theme": "nonsense"}, {"source": "fax"},
    {"date_from": "2000-01-01", "date_to": "2099-12-31"},
])
def test_bad_filters_fall_back_to_defaults_with_a_message(world, args):
    filters = DemandFilters.from_args(args, today=TODAY).for_user(world["admin"])
    assert filters.warnings
    assert filters.date_from <= filters.date_to
    assert queries.total(filters, world["admin"]) >= 0
