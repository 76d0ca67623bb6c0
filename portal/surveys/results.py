"""Survey results: counts and shares per question, broken down by building or unit, free-text answers,
and the §5 legal tally per voting body. One computation feeds the page, the Excel export and the API."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import select

from portal.areas.models import Estate, Household, Occupancy
from portal.extensions import db
from portal.surveys import tally as legal
from portal.surveys.models import (
    CONSENT_OPTIONS, SCALE_VALUES, Channel, QuestionKind, Survey, SurveyAnswer, SurveyQuestion, SurveyResponse,
    TallyScope,
)
from portal.surveys.services import consent_choice, consent_value, households_in_scope, in_targets, unit_key

BREAKDOWNS = ("building", "unit")


@dataclass
class GroupRow:
    key: tuple
    label: str
    households: int = 0
    answered: int = 0
    counts: list[int] = field(default_factory=list)
    total_score: int = 0

    @property
    def shares(self) -> list[Optional[float]]:
        return [c / self.answered if self.answered else None for c in self.counts]

    @property
    def mean(self) -> Optional[float]:
        return self.total_score / self.answered if self.answered else None


@dataclass
class TextAnswer:
    answer_id: int
    household_id: int
    estate_name: str
    household_label: str
    occupancy: str
    channel: Channel
    submitted_at: datetime
    text: str
    themes: list[str]
    urgent: bool
    needs_review: bool
    tagged: bool


@dataclass
class QuestionResult:
    number: int
    question: SurveyQuestion
    labels: list[str]
    total: GroupRow
    groups: list[GroupRow]
    texts: list[TextAnswer] = field(default_factory=list)

    @property
    def is_text(self) -> bool:
        return self.question.kind == QuestionKind.text

    @property
    def theme_counts(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = defaultdict(int)
        for text in self.texts:
            for code in text.themes:
                counts[code] += 1
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


@dataclass
class TallyRow:
    key: tuple
    label: str
    result: legal.Tally


@dataclass
class ConsentTally:
    number: int
    question: SurveyQuestion
    rows: list[TallyRow]

    @property
    def passed_count(self) -> int:
        return sum(1 for row in self.rows if row.result.passed)


@dataclass
class SurveyResults:
    survey: Survey
    breakdown: str
    households: int
    owners_households: int
    responses: int
    online: int
    paper: int
    replaced: int
    estates_without_roster: list[str]
    questions: list[QuestionResult]
    tallies: list[ConsentTally]
    response_rows: list[dict[str, Any]]

    @property
    def response_rate(self) -> Optional[float]:
        return self.responses / self.households if self.households else None


def _building_key(h: Household) -> tuple:
    return (h.estate_id, h.building)


def _unit_key(h: Household) -> tuple:
    return (h.estate_id, h.building, h.unit)


def _sort_text(value: str) -> tuple:
    """Buildings and units sort as numbers where they are numbers ("2" before "10")."""
    return (0, int(value), "") if value.isdigit() else (1, 0, value)


def group_label(key: tuple, estate_names: dict[int, str], many_estates: bool) -> str:
    prefix = estate_names.get(key[0], "") if many_estates or len(key) == 1 else ""
    parts = [prefix] if prefix else []
    if len(key) >= 2:
        parts.append(f"{key[1]}栋" + (f"{key[2]}单元" if len(key) == 3 and key[2] else ""))
    return " ".join(parts)


def compute(survey: Survey, breakdown: str = "building", theme: Optional[str] = None, *,
            with_rows: bool = True) -> SurveyResults:
    """Everything the results page shows. `with_rows=False` leaves out the per-response rows (for callers
    that only need counts and tallies, such as project scores)."""
    breakdown = breakdown if breakdown in BREAKDOWNS else "building"
    estates = survey.estates
    estate_names = {e.id: e.name for e in estates}
    many = len(estates) > 1
    households = households_in_scope(survey)
    by_id = {h.id: h for h in households}
    responses = db.session.scalars(select(SurveyResponse).where(SurveyResponse.survey_id == survey.id)).all()
    responses = [r for r in responses if r.household_id in by_id]
    response_of = {r.id: r for r in responses}
    answers = db.session.scalars(select(SurveyAnswer).where(SurveyAnswer.survey_id == survey.id)
                                 .order_by(SurveyAnswer.id)).all()
    answers = [a for a in answers if a.response_id in response_of]
    by_question: dict[int, list[SurveyAnswer]] = defaultdict(list)
    for answer in answers:
        by_question[answer.question_id].append(answer)

    keyer = _building_key if breakdown == "building" else _unit_key
    group_keys = sorted({keyer(h) for h in households},
                        key=lambda k: (estate_names.get(k[0], ""), *(_sort_text(x) for x in k[1:])))
    households_per_group: dict[tuple, int] = defaultdict(int)
    for h in households:
        households_per_group[keyer(h)] += 1

    results = []
    for number, question in enumerate(survey.questions, start=1):
        labels = question.choice_labels
        size = 0 if question.kind == QuestionKind.text else len(labels)
        total = GroupRow(("all",), "合计", len(households), counts=[0] * size)
        groups = {k: GroupRow(k, group_label(k, estate_names, many), households_per_group[k], counts=[0] * size)
                  for k in group_keys}
        texts = []
        for answer in by_question.get(question.id, []):
            household = by_id[response_of[answer.response_id].household_id]
            row = groups[keyer(household)]
            if question.kind == QuestionKind.text:
                if not answer.text:
                    continue
                if theme and theme not in (answer.themes or []):
                    continue
                response = response_of[answer.response_id]
                texts.append(TextAnswer(answer.id, household.id, estate_names.get(household.estate_id, ""),
                                        household.label, "租户" if household.occupancy == Occupancy.tenant else "业主",
                                        response.channel, response.submitted_at, answer.text,
                                        list(answer.themes or []), answer.urgent, answer.needs_review,
                                        answer.model_version is not None))
                for target in (total, row):
                    target.answered += 1
                continue
            indexes = ([SCALE_VALUES.index(answer.number)] if question.kind == QuestionKind.scale
                       and answer.number in SCALE_VALUES else list(answer.choices or []))
            indexes = [i for i in indexes if 0 <= i < size]
            if not indexes:
                continue
            for target in (total, row):
                target.answered += 1
                for i in indexes:
                    target.counts[i] += 1
                if question.kind == QuestionKind.scale:
                    target.total_score += answer.number
        texts.sort(key=lambda t: (not t.urgent, -t.submitted_at.timestamp()))  # urgent first, newest first
        results.append(QuestionResult(number, question, labels, total, [groups[k] for k in group_keys], texts))

    tallies = [ConsentTally(number, q, _tally_rows(survey, households, _votes(by_question.get(q.id, []), response_of),
                                                   estate_names, many))
               for number, q in enumerate(survey.questions, start=1) if q.kind == QuestionKind.consent]
    with_roster = {h.estate_id for h in households}
    response_rows = []
    if with_rows:
        answers_of: dict[int, dict[int, SurveyAnswer]] = defaultdict(dict)
        for answer in answers:
            answers_of[answer.response_id][answer.question_id] = answer
        for r in sorted(responses, key=lambda r: (estate_names.get(by_id[r.household_id].estate_id, ""),
                                                  *_household_sort(by_id[r.household_id]))):
            response_rows.append(_response_row(survey, by_id[r.household_id], r, answers_of[r.id], estate_names))
    return SurveyResults(
        survey=survey, breakdown=breakdown, households=len(households),
        owners_households=sum(1 for h in households if h.occupancy == Occupancy.owner),
        responses=len(responses), online=sum(1 for r in responses if r.channel == Channel.online),
        paper=sum(1 for r in responses if r.channel == Channel.paper),
        replaced=sum(1 for r in responses if r.version > 1),
        estates_without_roster=[e.name for e in estates if e.id not in with_roster],
        questions=results, tallies=tallies, response_rows=response_rows)


def _household_sort(h: Household) -> tuple:
    return (_sort_text(h.building), _sort_text(h.unit or ""), _sort_text(h.room))


def tally_groups(survey: Survey, households: list[Household]) -> dict[tuple, list[Household]]:
    """The voting bodies: each estate, each building or each unit. An estate with no roster is a body
    with no households, so its tally says plainly that there is no roster."""
    groups: dict[tuple, list[Household]] = {}
    if survey.tally_scope == TallyScope.estate:
        for estate in survey.estates:
            groups[(estate.id,)] = []
    for h in households:
        if survey.tally_scope == TallyScope.estate:
            key: tuple = (h.estate_id,)
        elif survey.tally_scope == TallyScope.building:
            key = (h.estate_id, h.building)
        else:
            key = (h.estate_id, h.building, h.unit)
        groups.setdefault(key, []).append(h)
    for estate in survey.estates:
        if not any(k[0] == estate.id for k in groups):
            groups[(estate.id,)] = []
    return groups


def _votes(answers, response_of) -> dict[int, legal.Vote]:
    votes_by_household = {}
    for answer in answers:
        response = response_of[answer.response_id]
        choice = consent_value(answer)
        if choice:
            votes_by_household[response.household_id] = legal.Vote(response.household_id, choice, response.submitted_at)
    return votes_by_household


def _tally_rows(survey, households, votes_by_household: dict[int, legal.Vote], estate_names, many) -> list[TallyRow]:
    """`households`: Household rows, or RosterEntry rows with the same attributes."""
    rows = []
    groups = tally_groups(survey, households)
    ordered = sorted(groups, key=lambda k: (estate_names.get(k[0], ""), *(_sort_text(x) for x in k[1:])))
    for key in ordered:
        members = groups[key]
        flats = [legal.Flat(h.id, h.area_m2, h.occupancy == Occupancy.owner, h.owner_id_number) for h in members]
        votes = [votes_by_household[h.id] for h in members if h.id in votes_by_household]
        label = group_label(key, estate_names, many or len(key) == 1)
        rows.append(TallyRow(key, label, legal.tally(flats, votes, survey.matter_type.value)))
    return rows


@dataclass(frozen=True)
class RosterEntry:
    """The columns of a household that a tally needs."""
    id: int
    estate_id: int
    building: str
    unit: str
    area_m2: Decimal
    occupancy: Occupancy
    owner_id_number: Optional[str]


def consent_tallies(survey: Survey) -> list[ConsentTally]:
    """The consent questions' tallies exactly as compute() gives them, read as plain columns: project scores
    need them for every linked survey on every ranking, and loading each survey's answers as objects was
    most of the ranking's time."""
    questions = [(number, q) for number, q in enumerate(survey.questions, start=1) if q.kind == QuestionKind.consent]
    if not questions:
        return []
    estate_names = {e.id: e.name for e in survey.estates}
    households = [RosterEntry(*row) for row in db.session.execute(
        select(Household.id, Household.estate_id, Household.building, Household.unit, Household.area_m2,
               Household.occupancy, Household.owner_id_number)
        .where(Household.estate_id.in_(survey.estate_ids))
        .order_by(Household.estate_id, Household.building, Household.unit, Household.room))
        if in_targets(survey, row.building, row.unit)]
    in_scope = {h.id for h in households}
    votes: dict[int, dict[int, legal.Vote]] = defaultdict(dict)
    for question_id, choices, household_id, submitted_at in db.session.execute(
            select(SurveyAnswer.question_id, SurveyAnswer.choices, SurveyResponse.household_id,
                   SurveyResponse.submitted_at)
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .where(SurveyAnswer.survey_id == survey.id, SurveyAnswer.question_id.in_([q.id for _, q in questions]))
            .order_by(SurveyAnswer.id)):
        choice = consent_choice(choices)
        if household_id in in_scope and choice:
            votes[question_id][household_id] = legal.Vote(household_id, choice, submitted_at)
    many = len(estate_names) > 1
    return [ConsentTally(number, q, _tally_rows(survey, households, votes[q.id], estate_names, many))
            for number, q in questions]


def _response_row(survey, household, response, mine: dict[int, SurveyAnswer], estate_names) -> dict[str, Any]:
    """One response as a row: `mine` maps question id → this response's answer."""
    from portal.surveys.services import answer_display

    return {"response": response, "household": household, "estate_name": estate_names.get(household.estate_id, ""),
            "answers": [(q, answer_display(q, mine.get(q.id))) for q in survey.questions]}


# --- the same results as plain data (the JSON API) ----------------------------------------------

def _fraction(value) -> Optional[dict[str, Any]]:
    if value is None:
        return None
    return {"value": round(float(value), 6), "numerator": str(value.numerator), "denominator": str(value.denominator)}


def tally_json(row: TallyRow) -> dict[str, Any]:
    t = row.result
    return {
        "scope": row.label, "has_roster": t.has_roster, "verdict": t.verdict, "passed": t.passed,
        "households": t.households, "tenants": t.tenants, "owners": t.owners, "area_m2": str(t.area),
        "voters": t.voters, "voted_area_m2": str(t.voted_area),
        "yes_voters": t.yes_voters, "yes_area_m2": str(t.yes_area), "no_voters": t.no_voters,
        "no_area_m2": str(t.no_area), "abstain_voters": t.abstain_voters, "abstain_area_m2": str(t.abstain_area),
        "tenant_votes_not_counted": t.tenant_votes,
        "ratios": {
            "participation_area": _fraction(t.participation_area_ratio),
            "participation_owners": _fraction(t.participation_owner_ratio),
            "yes_area": _fraction(t.yes_area_ratio),
            "yes_owners": _fraction(t.yes_owner_ratio),
        },
        "checks": {"participation_area": t.participation_area_ok, "participation_owners": t.participation_owners_ok,
                   "approval_area": t.approval_area_ok, "approval_owners": t.approval_owners_ok},
        "needed": {"more_voters": t.more_voters_needed, "more_voted_area_m2": str(t.more_voted_area_needed),
                   "more_yes_voters": t.more_yes_voters_needed, "more_yes_area_m2": str(t.more_yes_area_needed),
                   "reachable": t.reachable},
    }


def results_json(results: SurveyResults, mask) -> dict[str, Any]:
    """`mask` turns free text into what an API caller may see (personal data masked)."""
    survey = results.survey
    questions = []
    for q in results.questions:
        item: dict[str, Any] = {"number": q.number, "id": q.question.id, "kind": q.question.kind.value,
                                "text": q.question.text, "answered": q.total.answered}
        if q.is_text:
            item["themes"] = [{"theme": code, "count": n} for code, n in q.theme_counts]
            item["answers"] = [{"estate": t.estate_name, "text": mask(t.text), "themes": t.themes, "urgent": t.urgent}
                               for t in q.texts]
        else:
            item["options"] = [{"label": label, "count": q.total.counts[i], "share": q.total.shares[i],
                                **({"theme": q.question.options[i].get("theme")}
                                   if q.question.kind in (QuestionKind.single, QuestionKind.multiple)
                                   and q.question.options[i].get("theme") else {})}
                               for i, label in enumerate(q.labels)]
            if q.question.kind == QuestionKind.scale:
                item["mean"] = q.total.mean
            item["by_" + results.breakdown] = [
                {"group": g.label, "households": g.households, "answered": g.answered, "counts": g.counts,
                 **({"mean": g.mean} if q.question.kind == QuestionKind.scale else {})}
                for g in q.groups]
        questions.append(item)
    return {
        "id": survey.id, "title": survey.title, "estates": [e.name for e in survey.estates],
        "opens_on": survey.opens_on.isoformat(), "closes_on": survey.closes_on.isoformat(),
        "matter_type": survey.matter_type.value, "tally_scope": survey.tally_scope.value,
        "scope_targets": list(survey.scope_targets or []),
        "households_in_scope": results.households, "responses": results.responses,
        "online": results.online, "paper": results.paper, "response_rate": results.response_rate,
        "estates_without_roster": results.estates_without_roster,
        "questions": questions,
        "legal_tally": [{"question_number": t.number, "question": t.question.text,
                         "bodies": [tally_json(row) for row in t.rows]} for t in results.tallies],
    }
