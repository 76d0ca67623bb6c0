"""The §5 legal tally on constructed rosters: plain arithmetic, no database."""
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from portal.surveys.tally import ABSTAIN, MAJOR, NO, ORDINARY, YES, Flat, Vote, percent, tally


def flats(n, area="100", start=1, **fields):
    return [Flat(i, Decimal(area), **fields) for i in range(start, start + n)]


def votes(choice, ids, at=None):
    return [Vote(i, choice, at) for i in ids]


def test_exactly_two_thirds_participate_and_exactly_three_quarters_agree_passes_a_major_matter():
    roster = flats(12)
    result = tally(roster, votes(YES, range(1, 7)) + votes(NO, range(7, 9)), MAJOR)
    assert (result.voters, result.owners, result.yes_voters) == (8, 12, 6)
    assert result.participation_owner_ratio == Fraction(2, 3) and result.participation_area_ratio == Fraction(2, 3)
    assert result.yes_owner_ratio == Fraction(3, 4) and result.yes_area_ratio == Fraction(3, 4)
    assert result.participation_ok and result.approval_ok and result.passed
    assert result.verdict == "通过"
    assert (result.more_yes_voters_needed, result.more_yes_area_needed) == (0, Decimal("0.00"))
    assert percent(result.participation_owner_ratio) == "66.67%" and percent(result.yes_area_ratio) == "75.00%"


def test_one_owner_short_of_two_thirds_fails_and_says_how_many_more():
    roster = flats(12)
    result = tally(roster, votes(YES, range(1, 8)), MAJOR)  # 7 of 12 voted, all yes
    assert not result.participation_owners_ok and not result.participation_area_ok
    assert result.approval_ok and not result.passed and result.verdict == "未通过"
    assert result.more_voters_needed == 1
    assert result.more_voted_area_needed == Decimal("100.00")  # 2/3 of 1200 m² is 800; 700 voted
    assert (result.more_yes_voters_needed, result.more_yes_area_needed) == (1, Decimal("100.00"))
    assert result.reachable


def test_a_hair_under_three_quarters_of_the_area_fails_a_major_matter():
    roster = [Flat(1, Decimal("75.00")), Flat(2, Decimal("25.01")), Flat(3, Decimal("0.01"))]
    result = tally(roster, [Vote(1, YES), Vote(2, NO), Vote(3, NO)], MAJOR)
    assert result.yes_area_ratio == Fraction(7500, 10002)  # just below 3/4
    assert not result.approval_area_ok and not result.approval_owners_ok and not result.passed
    # Every owner has voted: nobody is left to change the result, and the tally says so.
    assert not result.reachable


def test_exactly_half_is_not_more_than_half_for_an_ordinary_matter():
    roster = flats(4)
    result = tally(roster, votes(YES, [1, 2]) + votes(NO, [3, 4]), ORDINARY)
    assert result.yes_owner_ratio == Fraction(1, 2)
    assert not result.approval_owners_ok and not result.approval_area_ok and not result.passed
    assert not result.reachable  # all four voted: no further yes votes can come
    three = tally(roster, votes(YES, [1, 2, 3]) + votes(NO, [4]), ORDINARY)
    assert three.passed


def test_tenants_answer_but_neither_vote_nor_count_in_the_totals():
    roster = flats(3) + flats(3, start=4, is_owner=False)
    result = tally(roster, votes(YES, [1, 2]) + votes(NO, [4, 5, 6]), MAJOR)
    assert (result.households, result.tenants, result.owners, result.area) == (6, 3, 3, Decimal("300"))
    assert result.tenant_votes == 3 and result.no_voters == 0
    assert result.voters == 2 and result.yes_owner_ratio == 1
    assert result.participation_owner_ratio == Fraction(2, 3) and result.passed


def test_abstentions_count_as_participation_but_not_as_yes():
    roster = flats(4)
    result = tally(roster, votes(YES, [1, 2]) + votes(ABSTAIN, [3, 4]), ORDINARY)
    assert result.voters == 4 and result.participation_ok and result.abstain_voters == 2
    assert result.yes_owner_ratio == Fraction(1, 2) and not result.passed  # not MORE than half


def test_decimal_areas_are_exact_and_needed_area_is_rounded_up_to_the_cent():
    roster = [Flat(1, Decimal("86.55")), Flat(2, Decimal("72.30")), Flat(3, Decimal("101.15"))]
    result = tally(roster, [Vote(1, YES), Vote(2, YES)], MAJOR)  # 158.85 of 260.00 voted
    assert result.area == Decimal("260.00") and result.voted_area == Decimal("158.85")
    assert result.participation_area_ratio == Fraction(15885, 26000)
    assert result.participation_owners_ok and not result.participation_area_ok
    # 2/3 of 260.00 = 173.333…; 14.4833… more m², shown as 14.49 (rounded up, never down)
    assert result.more_voted_area_needed == Decimal("14.49")
    # Two of three owners is enough headcount, but the missing area can only come from the third owner.
    assert result.more_voters_needed == 1 and result.more_yes_voters_needed == 1
    assert result.more_yes_area_needed == Decimal("14.49") and result.reachable


def test_one_owner_with_several_flats_counts_once_by_id_number_but_with_all_the_area():
    roster = [Flat(1, Decimal("90"), owner_id="110101195001011234"),
              Flat(2, Decimal("60"), owner_id="110101195001011234"),
              Flat(3, Decimal("80")), Flat(4, Decimal("70"))]
    t0 = datetime(2026, 3, 1, 9, 0)
    result = tally(roster, [Vote(1, NO, t0), Vote(2, YES, t0 + timedelta(hours=1)), Vote(3, YES, t0)], MAJOR)
    assert result.owners == 3  # four flats, three persons
    assert result.voters == 2
    assert result.yes_voters == 2 and result.no_voters == 0  # the owner's latest answer counts for headcount
    assert result.yes_area == Decimal("140") and result.no_area == Decimal("90")  # area follows each flat
    assert result.participation_owner_ratio == Fraction(2, 3)
    assert result.participation_area_ratio == Fraction(230, 300)
    assert result.yes_area_ratio == Fraction(140, 230) and not result.approval_area_ok


def test_without_an_owner_id_every_flat_is_its_own_owner():
    result = tally(flats(3), votes(YES, [1, 2]), MAJOR)
    assert result.owners == 3 and result.voters == 2


def test_no_roster_says_so_instead_of_guessing():
    result = tally([], [Vote(1, YES)], MAJOR)
    assert not result.has_roster and not result.passed and not result.reachable
    assert result.verdict == "无名册，无法统计"
    assert result.participation_owner_ratio is None and percent(result.yes_area_ratio) == "—"


def test_only_tenants_in_scope_cannot_be_tallied():
    result = tally(flats(2, is_owner=False), votes(YES, [1, 2]), ORDINARY)
    assert result.has_roster and result.owners == 0 and not result.passed
    assert result.verdict == "范围内没有业主，无法统计"


def test_a_unit_inside_a_larger_estate_is_tallied_over_its_own_households_only():
    estate = flats(10, start=1) + flats(4, start=101)  # building 1 (ten flats) and unit 2 of building 2
    unit = [f for f in estate if f.household_id > 100]
    ballots = votes(YES, [101, 102, 103])
    assert tally(unit, ballots, MAJOR).passed  # 3 of 4 in the unit: passes there
    assert not tally(estate, ballots, MAJOR).passed  # 3 of 14 estate-wide would not
    outside = tally(unit, ballots + votes(NO, [1, 2]), MAJOR)
    assert outside.outside_votes == 2 and outside.passed  # other buildings' answers do not leak in


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError):
        tally(flats(1), [], "urgent")
    with pytest.raises(ValueError):
        tally(flats(1), [Vote(1, "maybe")], MAJOR)


@settings(max_examples=150, deadline=None)
@given(owners=st.integers(1, 40), data=st.data(), matter=st.sampled_from([MAJOR, ORDINARY]))
def test_the_needed_count_is_exactly_enough(owners, data, matter):
    """With equal flats, adding the stated number of yes votes passes, and one fewer does not."""
    choices = data.draw(st.lists(st.sampled_from([None, YES, NO, ABSTAIN]), min_size=owners, max_size=owners))
    roster = flats(owners, "50.00")
    ballots = [Vote(i + 1, c) for i, c in enumerate(choices) if c]
    result = tally(roster, ballots, matter)
    if result.passed:
        assert result.more_yes_voters_needed == 0
        return
    silent = [i + 1 for i, c in enumerate(choices) if c is None]
    need = result.more_yes_voters_needed
    assert result.reachable == (need <= len(silent))
    if need <= len(silent):
        assert tally(roster, ballots + votes(YES, silent[:need]), matter).passed
        assert result.more_yes_area_needed <= Decimal("50.00") * need
        if need > 0:
            assert not tally(roster, ballots + votes(YES, silent[:need - 1]), matter).passed
