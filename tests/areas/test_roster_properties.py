"""Roster import under hostile input (hypothesis): parse_roster never raises, every accepted row keeps the
roster's invariants (area > 0 and ≤ 2000 with two decimals, a known occupancy, an owner ID of the allowed
form, unique households), a failed import writes nothing, and well-formed rosters read back as typed."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st
from sqlalchemy import select

from portal.accounts.models import Role
from portal.areas import services
from portal.areas.models import Household, Occupancy
from portal.areas.roster import (
    HEADER_ALIASES, MAX_AREA, OWNER_WORDS, TENANT_WORDS, parse_area, parse_occupancy, parse_owner_id, parse_roster,
)
from portal.extensions import db
from tests.fuzz_support import ENCODINGS, assert_chinese, cell_values, csv_bytes, fuzz, row_counts, uploads, xlsx_bytes
from tests.helpers import make_estate, make_user

pytestmark = pytest.mark.fuzz

KNOWN = list(HEADER_ALIASES) + [alias for names in HEADER_ALIASES.values() for alias in names]
PLAUSIBLE = {
    "楼栋": ["1", "3号楼", "2栋", "A座", 5], "单元": ["1", "2单元", None], "房号": ["101", "301室", 502, "1-2"],
    "面积": ["86.5", 72.35, 90, "65.2㎡", "1,200.5"], "业主/租户": ["业主", "租户", None],
    "业主证件号": ["430103198001011234", "43010319800101123X", None, "G12345678"],
}
OWNER_ID = r"[0-9A-Z\-]{6,32}"


def check_row(row) -> None:
    assert row.building and len(row.building) <= 32 and " " not in row.building
    assert row.room and len(row.room) <= 32 and len(row.unit) <= 32
    assert Decimal("0") < row.area_m2 <= MAX_AREA
    assert row.area_m2 == row.area_m2.quantize(Decimal("0.01"))  # two decimals, as Numeric(10, 2) stores
    assert row.occupancy in Occupancy
    if row.owner_id_number is not None:
        import re

        assert re.fullmatch(OWNER_ID, row.owner_id_number), row.owner_id_number


@fuzz(200)
@given(upload=uploads(KNOWN, required=["楼栋", "房号", "面积"], plausible=PLAUSIBLE))
@example(upload=("r.csv", "楼栋,房号,面积\n1,101,1e999999\n".encode()))
@example(upload=("r.csv", ("楼栋,房号,面积\n1,101," + "9" * 5000 + "\n").encode()))
def test_parse_roster_is_total_and_accepted_rows_keep_the_invariants(upload):
    parse = parse_roster(*upload)
    for message in parse.errors:
        assert_chinese(message)
        if message.startswith("第 "):  # a row's message quotes its cells cut short
            assert len(message) <= 600, message[:80]
    assert parse.error_count >= len(parse.errors)
    if parse.ok:
        event("accepted")
        assert parse.rows
    keys = [row.key for row in parse.rows]
    assert len(keys) == len(set(keys))
    for row in parse.rows:
        check_row(row)


@fuzz(120)
@given(upload=uploads(KNOWN, required=["楼栋", "房号", "面积"], plausible=PLAUSIBLE))
def test_import_roster_is_all_or_nothing(app, upload):
    admin = _admin()
    estate = _estate()
    before = row_counts()
    try:
        summary = services.import_roster(admin, estate, *upload)
    except services.RosterImportError as failure:
        assert_chinese(failure.message)
        assert row_counts() == before
        return
    event("imported")
    after = row_counts()
    assert after["households"] == before["households"] + summary.created
    assert estate.household_count == db.session.scalar(
        select(db.func.count()).select_from(Household).where(Household.estate_id == estate.id))
    for household in db.session.scalars(select(Household)):
        assert Decimal("0") < household.area_m2 <= MAX_AREA


def _admin():
    from portal.accounts.models import User

    return db.session.scalar(select(User).where(User.role == Role.district_admin)) or make_user(Role.district_admin)


def _estate():
    from portal.areas.models import Estate

    return db.session.scalar(select(Estate)) or make_estate()


# --- well-formed rosters read back as typed -------------------------------------------------------

areas = st.decimals(min_value=Decimal("0.01"), max_value=MAX_AREA, places=2, allow_nan=False)
labels = st.from_regex(r"[0-9A-Z]{1,4}", fullmatch=True)
owner_ids = st.one_of(st.none(), st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True))


@st.composite
def rosters(draw):
    keys = draw(st.lists(st.tuples(labels, labels, labels), min_size=1, max_size=6, unique=True))
    rows = [(b, u, r, draw(areas), draw(st.sampled_from(["业主", "租户"])), draw(owner_ids)) for b, u, r in keys]
    table = [["楼栋", "单元", "房号", "专有部分面积", "业主/租户", "业主证件号"]]
    table += [[f"{b}号楼", f"{u}单元", f"{r}室", str(a), occ, oid] for b, u, r, a, occ, oid in rows]
    kind = draw(st.sampled_from(["xlsx", *(e for e in ENCODINGS if e != "big5")]))
    if kind == "xlsx":
        return "r.xlsx", xlsx_bytes(table), rows
    return "r.csv", csv_bytes(table, kind), rows


@fuzz(120)
@given(roster=rosters())
def test_well_formed_rosters_round_trip(roster):
    filename, data, rows = roster
    parse = parse_roster(filename, data)
    assert parse.ok, parse.errors
    got = [(r.building, r.unit, r.room, r.area_m2, r.occupancy, r.owner_id_number) for r in parse.rows]
    assert got == [(b, u, r, a, Occupancy.owner if occ == "业主" else Occupancy.tenant, oid)
                   for b, u, r, a, occ, oid in rows]


# --- the cell parsers are total -------------------------------------------------------------------

@fuzz(400)
@given(value=cell_values)
@example(value="1e999999")
@example(value="-0")
@example(value=float("nan"))
def test_cell_parsers_are_total(value):
    from decimal import InvalidOperation

    try:
        area = parse_area(value)
        assert area.is_finite() and area == area.quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        pass
    try:
        assert parse_occupancy(value) in Occupancy
    except ValueError:
        pass
    try:
        owner = parse_owner_id(value)
        assert owner is None or owner == parse_owner_id(owner)  # idempotent
    except (ValueError, OverflowError):
        pass


@fuzz(100)
@given(word=st.sampled_from(sorted(OWNER_WORDS | TENANT_WORDS)), case=st.sampled_from([str.upper, str.lower, str]))
def test_occupancy_words(word, case):
    assert parse_occupancy(f" {case(word)} ") == (Occupancy.owner if word in OWNER_WORDS else Occupancy.tenant)


def test_regression_control_characters_from_excel_escapes_are_dropped(app):
    """calamine turns "_x0000_" into NUL, which PostgreSQL refuses in text: the import crashed there."""
    data = xlsx_bytes([["楼栋", "房号", "面积"], ["3_x0000_", "1_x0001_01", "86.5"]])
    summary = services.import_roster(_admin(), _estate(), "r.xlsx", data)
    assert summary.created == 1
    assert db.session.execute(select(Household.building, Household.room)).all() == [("3", "101")]


@fuzz(50)
@given(upload=uploads(KNOWN, required=["楼栋", "房号", "面积"], plausible=PLAUSIBLE))
def test_the_roster_upload_page_never_answers_500(client, app, upload):
    import io

    from tests.helpers import login

    admin, estate = _admin(), _estate()
    login(client, admin)
    filename, data = upload
    before = row_counts()
    response = client.post(f"/areas/estates/{estate.id}/roster", data={"file": (io.BytesIO(data), filename)},
                           content_type="multipart/form-data")
    assert response.status_code in (200, 302, 422), response.status_code
    if response.status_code != 302:
        assert row_counts()["households"] == before["households"]
