"""The legal tally of DESIGN.md §5 (民法典 第二百七十八条): plain arithmetic over plain data, no Flask.

Who counts: the OWNER households of the roster in scope. Tenants may answer, but their households
are neither voters nor part of the totals. Area is each household's exclusive area (专有部分面积);
headcount is per owner: households sharing an owner ID number are one person, households without
one count one each.

- participation: voters' area ≥ 2/3 of the total area AND voters ≥ 2/3 of the owners;
- major matter: yes-area ≥ 3/4 of the participating area AND yes-voters ≥ 3/4 of the participating owners;
- ordinary matter: yes-area > 1/2 of the participating area AND yes-voters > 1/2 of the participating owners.

An abstention (弃权) is a vote cast: it counts towards participation and in the denominators, but not as yes.
Arithmetic is exact (fractions), so "exactly 2/3" passes and a hair under fails.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Iterable, Optional

MAJOR = "major"
ORDINARY = "ordinary"
YES, NO, ABSTAIN = "yes", "no", "abstain"
CHOICES = (YES, NO, ABSTAIN)

PARTICIPATION = Fraction(2, 3)
MAJOR_SHARE = Fraction(3, 4)
ORDINARY_SHARE = Fraction(1, 2)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Flat:
    """One household of the roster in scope."""
    household_id: int
    area_m2: Decimal
    is_owner: bool = True
    owner_id: Optional[str] = None  # 业主证件号: one person may own several flats

    @property
    def owner_key(self) -> str:
        return f"id:{self.owner_id}" if self.owner_id else f"household:{self.household_id}"


@dataclass(frozen=True)
class Vote:
    """A household's answer to the consent question. `at` orders one owner's votes from several flats."""
    household_id: int
    choice: str
    at: Optional[datetime] = None


@dataclass(frozen=True)
class Tally:
    matter: str
    has_roster: bool
    households: int = 0  # every household in scope, tenants included
    tenants: int = 0
    owners: int = 0  # persons
    area: Decimal = Decimal("0")  # owners' total exclusive area
    voters: int = 0
    voted_area: Decimal = Decimal("0")
    yes_voters: int = 0
    yes_area: Decimal = Decimal("0")
    no_voters: int = 0
    no_area: Decimal = Decimal("0")
    abstain_voters: int = 0
    abstain_area: Decimal = Decimal("0")
    tenant_votes: int = 0  # answers from tenants: shown, never counted
    outside_votes: int = 0  # answers from households not in this scope (none in normal use)
    participation_area_ok: bool = False
    participation_owners_ok: bool = False
    approval_area_ok: bool = False
    approval_owners_ok: bool = False
    more_voters_needed: int = 0  # to reach participation, whatever they vote
    more_voted_area_needed: Decimal = Decimal("0")
    more_yes_voters_needed: int = 0  # to pass, if every further vote is yes
    more_yes_area_needed: Decimal = Decimal("0")
    remaining_owners: int = 0  # owners who have not voted at all
    remaining_area: Decimal = Decimal("0")  # and their area

    # --- the four ratios --------------------------------------------------------------------------
    @property
    def participation_area_ratio(self) -> Optional[Fraction]:
        return _ratio(self.voted_area, self.area)

    @property
    def participation_owner_ratio(self) -> Optional[Fraction]:
        return _ratio(self.voters, self.owners)

    @property
    def yes_area_ratio(self) -> Optional[Fraction]:
        return _ratio(self.yes_area, self.voted_area)

    @property
    def yes_owner_ratio(self) -> Optional[Fraction]:
        return _ratio(self.yes_voters, self.voters)

    @property
    def participation_ok(self) -> bool:
        return self.participation_area_ok and self.participation_owners_ok

    @property
    def approval_ok(self) -> bool:
        return self.approval_area_ok and self.approval_owners_ok

    @property
    def passed(self) -> bool:
        return self.has_roster and self.owners > 0 and self.participation_ok and self.approval_ok

    @property
    def reachable(self) -> bool:
        """Could it still pass if every owner who has not voted voted yes?"""
        if not self.has_roster or self.owners == 0:
            return False
        return (self.more_yes_voters_needed <= self.remaining_owners
                and self.more_yes_area_needed <= self.remaining_area)

    @property
    def approval_share(self) -> Fraction:
        return MAJOR_SHARE if self.matter == MAJOR else ORDINARY_SHARE

    @property
    def verdict(self) -> str:
        if not self.has_roster:
            return "无名册，无法统计"
        if self.owners == 0:
            return "范围内没有业主，无法统计"
        return "通过" if self.passed else "未通过"


def _ratio(part, whole) -> Optional[Fraction]:
    if not whole:
        return None
    return Fraction(part) / Fraction(whole)


def _at_least(value, whole, share: Fraction) -> bool:
    return bool(whole) and Fraction(value) >= share * Fraction(whole)


def _more_than(value, whole, share: Fraction) -> bool:
    return bool(whole) and Fraction(value) > share * Fraction(whole)


def _cents_up(value: Fraction) -> Decimal:
    """Square metres rounded up to the cent: the smallest roster-expressible area that is enough."""
    if value <= 0:
        return Decimal("0.00")
    return (Decimal(math.ceil(value * 100)) / 100).quantize(CENT)


def _yes_needed_count(voters: int, yes: int, matter: str) -> int:
    """Fewest further yes votes (from owners who have not voted) that meet the approval rule."""
    if matter == MAJOR:  # (yes+k)/(voters+k) ≥ 3/4  ⇔  k ≥ 3·voters − 4·yes
        k = 3 * voters - 4 * yes
    else:  # (yes+k)/(voters+k) > 1/2  ⇔  k > voters − 2·yes
        k = voters - 2 * yes + 1
    return max(k, 0 if voters else 1)


def _yes_needed_area(voted: Decimal, yes: Decimal, matter: str) -> Decimal:
    voted_f, yes_f = Fraction(voted), Fraction(yes)
    if matter == MAJOR:  # (yes+a)/(voted+a) ≥ 3/4  ⇔  a ≥ 3·voted − 4·yes
        need = _cents_up(3 * voted_f - 4 * yes_f)
        return need if need > 0 or voted_f > 0 else CENT  # nothing voted yet: some yes area is needed
    excess = voted_f - 2 * yes_f  # (yes+a)/(voted+a) > 1/2  ⇔  a > voted − 2·yes
    if excess < 0:
        return Decimal("0.00")
    return (Decimal(math.floor(excess * 100)) / 100 + CENT).quantize(CENT)  # the next cent above


def tally(flats: Iterable[Flat], votes: Iterable[Vote], matter: str) -> Tally:
    """The §5 result for one voting body (an estate, a building or a unit)."""
    if matter not in (MAJOR, ORDINARY):
        raise ValueError(f"unknown matter type {matter!r}")
    flats = list(flats)
    if not flats:
        return Tally(matter=matter, has_roster=False)
    by_household = {f.household_id: f for f in flats}
    owner_flats = [f for f in flats if f.is_owner]
    owners = {f.owner_key for f in owner_flats}
    area = sum((f.area_m2 for f in owner_flats), Decimal("0"))

    tenant_votes = outside_votes = 0
    flat_votes: dict[int, Vote] = {}
    for vote in votes:
        if vote.choice not in CHOICES:
            raise ValueError(f"unknown consent choice {vote.choice!r}")
        flat = by_household.get(vote.household_id)
        if flat is None:
            outside_votes += 1
        elif not flat.is_owner:
            tenant_votes += 1
        else:
            flat_votes[vote.household_id] = vote  # one current answer per household

    # Area follows each flat's own vote; headcount follows each owner's latest vote across their flats.
    area_by_choice = {choice: Decimal("0") for choice in CHOICES}
    latest: dict[str, tuple[tuple, Vote]] = {}
    for order, (household_id, vote) in enumerate(flat_votes.items()):
        flat = by_household[household_id]
        area_by_choice[vote.choice] += flat.area_m2
        rank = (vote.at or datetime.min, order)
        if flat.owner_key not in latest or rank > latest[flat.owner_key][0]:
            latest[flat.owner_key] = (rank, vote)
    count_by_choice = {choice: 0 for choice in CHOICES}
    for _, vote in latest.values():
        count_by_choice[vote.choice] += 1

    voters = len(latest)
    voted_area = sum(area_by_choice.values(), Decimal("0"))
    yes_voters, yes_area = count_by_choice[YES], area_by_choice[YES]
    share = MAJOR_SHARE if matter == MAJOR else ORDINARY_SHARE
    approve = _at_least if matter == MAJOR else _more_than

    result = dict(
        matter=matter, has_roster=True, households=len(flats), tenants=len(flats) - len(owner_flats),
        owners=len(owners), area=area, voters=voters, voted_area=voted_area,
        yes_voters=yes_voters, yes_area=yes_area,
        no_voters=count_by_choice[NO], no_area=area_by_choice[NO],
        abstain_voters=count_by_choice[ABSTAIN], abstain_area=area_by_choice[ABSTAIN],
        tenant_votes=tenant_votes, outside_votes=outside_votes,
        participation_area_ok=_at_least(voted_area, area, PARTICIPATION),
        participation_owners_ok=_at_least(voters, len(owners), PARTICIPATION),
        approval_area_ok=approve(yes_area, voted_area, share),
        approval_owners_ok=approve(yes_voters, voters, share),
    )
    if not owners:
        return Tally(**result)

    # Owners who have not voted, biggest area first: the fewest persons who could still bring the area in.
    owner_area: dict[str, Decimal] = {}
    for flat in owner_flats:
        owner_area[flat.owner_key] = owner_area.get(flat.owner_key, Decimal("0")) + flat.area_m2
    remaining = sorted((a for key, a in owner_area.items() if key not in latest), reverse=True)

    def persons_for(area_needed: Decimal) -> int:
        if area_needed <= 0:
            return 0
        total = Decimal("0")
        for count, owner_total in enumerate(remaining, start=1):
            total += owner_total
            if total >= area_needed:
                return count
        return len(remaining) + 1  # not enough area left among those who have not voted

    more_area = _cents_up(PARTICIPATION * Fraction(area) - Fraction(voted_area))
    more_voters = max(math.ceil(PARTICIPATION * len(owners)) - voters, persons_for(more_area), 0)
    passed = all(result[k] for k in ("participation_area_ok", "participation_owners_ok",
                                     "approval_area_ok", "approval_owners_ok"))
    if not passed:
        yes_area = max(more_area, _yes_needed_area(voted_area, result["yes_area"], matter))
        yes_count = max(more_voters, _yes_needed_count(voters, yes_voters, matter), persons_for(yes_area))
    else:
        yes_area, yes_count = Decimal("0.00"), 0
    result.update(more_voters_needed=more_voters, more_voted_area_needed=more_area,
                  more_yes_voters_needed=yes_count, more_yes_area_needed=yes_area,
                  remaining_owners=len(remaining), remaining_area=sum(remaining, Decimal("0")))
    return Tally(**result)


def percent(value: Optional[Fraction]) -> str:
    """'66.67%' (two decimals, rounded half up) or '—' when there is nothing to divide by."""
    if value is None:
        return "—"
    hundredths = Decimal(value.numerator * 10000) / Decimal(value.denominator)
    return f"{hundredths.quantize(Decimal('1'), rounding='ROUND_HALF_UP') / 100:.2f}%"
