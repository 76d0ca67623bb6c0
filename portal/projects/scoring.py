"""Project scores (DESIGN.md §6): five factors, each scaled to 0–1 across the candidate set, weighted.

Candidate set: every project in 储备 or 入库 across the whole district, so a score means the same thing
in every street. A street_staff user is shown only the rows of their own street, but those rows are
scaled against the district's maxima (the explanation says "本项目 12.3，候选项目最高 20.5，折算 0.60").

Factors, raw value → scaled:
- demand   需求强度: intensity.scoring_intensity(estates, themes, as_of).per_100
- support  居民支持: share of 同意 among the owners who voted on the linked survey's consent question
                    (0.5 when no survey is linked, or nobody has voted yet)
- urgency  紧急程度: that same intensity's urgent_share
- category 项目类别: ProjectCategory.factor
- cost     投资效益: households_covered / cost_wan
scaled = raw / (the candidate set's maximum of raw), 0 when that maximum is 0; total = 100 × Σ weight × scaled.

When scores are computed and stored: every call of rank()/explain() computes from the data as it is now,
so what a page or the API shows is always what the formula gives today (signals age every day, so a stored
number would drift). ProjectScore keeps, per project and weight set, the score as last computed: the rows
are refreshed by record_scores() when weights are saved (all candidates, under the new set), on the
"重新计算" button, and whenever the ranking or an explanation page is viewed (only changed rows are written).
So every stored score names the weight set it used, and old weight sets keep the scores they produced.

Eligibility: a project whose linked consent survey fails the §5 legal tally (portal/surveys/tally.py, as
results.compute applies it per voting body) is 不具备实施条件, with which threshold failed and the figures.
No linked survey: eligible, noted "未关联意愿调查".
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Iterable, Optional

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import Forbidden

from portal.accounts.models import Role
from portal.audit.services import record_event
from portal.core.errors import ServiceError
from portal.core.scoping import get_scoped_or_404, street_limit
from portal.core.time import utcnow
from portal.core.workdays import local_today
from portal.extensions import db
from portal.projects import intensity as demand_intensity
from portal.projects.models import (
    DEFAULT_WEIGHTS, FACTOR_LABELS, FACTORS, Project, ProjectCategory, ProjectEstate, ProjectScore, ProjectStatus,
    WeightSet,
)

CANDIDATE_STATUSES = (ProjectStatus.proposed, ProjectStatus.approved)
NEUTRAL_SUPPORT = 0.5  # no survey linked, or nobody has voted yet
# "Urgent basic" (紧急的基础类项目): 基础类 with at least this share of urgent signals; the annual plan takes them first.
URGENT_BASIC_SHARE = 0.3
WEIGHT_SUM_TOLERANCE = 0.001
NO_SURVEY_NOTE = "未关联意愿调查"

FACTOR_UNITS = {"demand": "每百户", "support": "同意率", "urgency": "紧急占比", "category": "类别系数",
                "cost": "户/万元"}


# --- weights ---------------------------------------------------------------------------------------

def current_weight_set() -> WeightSet:
    """The weight set in force: the newest version. Version 1 (the §6 defaults) is created when none exists."""
    newest = db.session.scalar(select(WeightSet).order_by(WeightSet.version.desc()).limit(1))
    if newest is not None:
        return newest
    try:
        with db.session.begin_nested():
            db.session.add(WeightSet(version=1, weights=dict(DEFAULT_WEIGHTS), note="默认权重"))
        db.session.commit()
    except IntegrityError:  # another request created it first
        db.session.rollback()
    return db.session.scalar(select(WeightSet).order_by(WeightSet.version.desc()).limit(1))


def weight_history() -> list[WeightSet]:
    current_weight_set()
    return list(db.session.scalars(select(WeightSet).options(selectinload(WeightSet.created_by))
                                   .order_by(WeightSet.version.desc())))


def validate_weights(weights: dict[str, Any]) -> dict[str, float]:
    """The five weights as floats, or a ServiceError saying in Chinese what is wrong (all problems at once)."""
    problems = []
    unknown = sorted(set(weights) - set(DEFAULT_WEIGHTS))
    if unknown:
        problems.append(f"未知的评分因素：{'、'.join(unknown)}。")
    clean: dict[str, float] = {}
    for code, label, _ in FACTORS:
        if code not in weights or weights[code] is None or str(weights[code]).strip() == "":
            problems.append(f"请填写「{label}」的权重。")
            continue
        try:
            value = float(str(weights[code]).strip())
        except (TypeError, ValueError):
            problems.append(f"「{label}」的权重应为 0 到 1 之间的数字。")
            continue
        if not math.isfinite(value) or value < 0 or value > 1:
            problems.append(f"「{label}」的权重应在 0 到 1 之间（现为 {weights[code]}）。")
            continue
        clean[code] = value
    if not problems:
        total = sum(clean.values())
        if abs(total - 1) > WEIGHT_SUM_TOLERANCE:
            problems.append(f"五项权重之和应为 1（现为 {total:.3f}）。")
    if problems:
        raise ServiceError("".join(problems))
    return clean


def save_weights(actor, weights: dict[str, float], note: str) -> WeightSet:
    """A new version of the weights (district_admin only). Every candidate's score is recomputed and stored
    under the new set in the same transaction."""
    if getattr(actor, "role", None) != Role.district_admin:
        raise Forbidden()
    clean = validate_weights(weights)
    note = (note or "").strip()
    if len(note) > 500:
        raise ServiceError("说明最多 500 个字。")
    previous = current_weight_set()
    version = (db.session.scalar(select(func.max(WeightSet.version))) or 0) + 1
    weight_set = WeightSet(version=version, weights=clean, note=note, created_by_id=actor.id)
    db.session.add(weight_set)
    db.session.flush()
    record_event(actor, "project.weights.update", weight_set, object_type="project_weight_sets",
                 before={"version": previous.version, "weights": previous.weights},
                 after={"version": version, "weights": clean}, note=note or None)
    _store(rank_all(weight_set=weight_set), weight_set)
    db.session.commit()
    return weight_set


# --- results -------------------------------------------------------------------------------------

@dataclass
class FactorScore:
    code: str
    label: str
    raw: float
    scaled: float
    weight: float
    points: float  # 100 × weight × scaled
    maximum: float  # the candidate set's maximum of raw: what raw was divided by
    note: str = ""  # where raw came from, in words

    @property
    def unit(self) -> str:
        return FACTOR_UNITS.get(self.code, "")

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "label": self.label, "raw": round(self.raw, 4), "maximum": round(self.maximum, 4),
                "scaled": round(self.scaled, 4), "weight": self.weight, "points": round(self.points, 2),
                "unit": self.unit, "note": self.note}


@dataclass
class Consent:
    """What the linked survey says: the support share and whether the §5 tally passes."""
    survey_id: Optional[int]
    survey_title: str
    support: float
    yes_voters: int = 0
    voters: int = 0
    eligible: bool = True
    reason: str = ""  # why not eligible
    note: str = ""  # how eligibility was decided


@dataclass
class RankedProject:
    project: Project
    rank: Optional[int]  # district-wide rank among the candidates; None for a project that is not a candidate
    total: float
    factors: list[FactorScore]
    eligible: bool
    ineligible_reason: str
    weight_set_version: int
    urgent_basic: bool
    as_of: date
    candidate: bool = True
    candidates: int = 0  # size of the candidate set the factors were scaled over
    eligibility_note: str = ""
    consent: Optional[Consent] = None
    intensity: Optional[demand_intensity.Intensity] = field(default=None, repr=False)

    def factor(self, code: str) -> FactorScore:
        return next(f for f in self.factors if f.code == code)

    @property
    def cost_wan(self) -> Decimal:
        return Decimal(self.project.cost_wan)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready; no personal data (names of places and projects, figures only)."""
        p = self.project
        return {
            "project_id": p.id, "name": p.name, "street_id": p.street_id, "street": p.street.name if p.street else None,
            "category": p.category.value, "category_label": p.category.label,
            "status": p.status.value, "status_label": p.status.label,
            "cost_wan": str(Decimal(p.cost_wan).quantize(Decimal("0.01"))), "households_covered": p.households_covered,
            "estates": [{"id": e.id, "name": e.name} for e in p.estates], "themes": p.themes,
            "rank": self.rank, "candidate": self.candidate, "total": round(self.total, 2),
            "factors": [f.as_dict() for f in self.factors],
            "eligible": self.eligible, "ineligible_reason": self.ineligible_reason or None,
            "eligibility_note": self.eligibility_note,
            "consent_survey_id": self.consent.survey_id if self.consent else None,
            "weight_set_version": self.weight_set_version, "urgent_basic": self.urgent_basic,
            "as_of": self.as_of.isoformat(),
        }


# --- consent and eligibility -----------------------------------------------------------------------

def _share_text(value) -> str:
    from portal.surveys.tally import percent

    return percent(value)


def _body_failure(label: str, t, matter: str) -> str:
    from portal.surveys.tally import MAJOR

    if not t.has_roster:
        return f"{label}：无住户名册，无法统计"
    if t.owners == 0:
        return f"{label}：范围内没有业主，无法统计"
    need = "≥3/4" if matter == MAJOR else ">1/2"
    failed = []
    if not t.participation_area_ok:
        failed.append(f"参与表决专有面积 {t.voted_area}/{t.area} m²（{_share_text(t.participation_area_ratio)}，需≥2/3）")
    if not t.participation_owners_ok:
        failed.append(f"参与表决业主 {t.voters}/{t.owners} 人（{_share_text(t.participation_owner_ratio)}，需≥2/3）")
    if not t.approval_area_ok:
        failed.append(f"同意面积 {t.yes_area}/{t.voted_area} m²（{_share_text(t.yes_area_ratio)}，需{need}）")
    if not t.approval_owners_ok:
        failed.append(f"同意业主 {t.yes_voters}/{t.voters} 人（{_share_text(t.yes_owner_ratio)}，需{need}）")
    text = f"{label}：" + "，".join(failed) + " 未达到"
    if t.more_yes_voters_needed:
        text += f"；尚需 {t.more_yes_voters_needed} 位业主（{t.more_yes_area_needed} m²）同意"
    return text


def consent_of(survey) -> Consent:
    """Support share and §5 eligibility from a survey's consent question(s), tallied as the results page
    tallies them (results.consent_tallies)."""
    from portal.surveys import results

    if survey is None:
        return Consent(None, "", NEUTRAL_SUPPORT, note=NO_SURVEY_NOTE)
    tallies = results.consent_tallies(survey)
    title = f"意愿调查「{survey.title}」"
    if not tallies:
        return Consent(survey.id, survey.title, NEUTRAL_SUPPORT, eligible=False,
                       reason=f"{title}没有表决题，无法确认业主是否同意", note="关联调查无表决题")
    first = tallies[0]
    yes = sum(row.result.yes_voters for row in first.rows)
    voters = sum(row.result.voters for row in first.rows)
    support = yes / voters if voters else NEUTRAL_SUPPORT
    failures = []
    for consent_tally in tallies:
        prefix = f"第 {consent_tally.number} 题 " if len(tallies) > 1 else ""
        for row in consent_tally.rows:
            if not row.result.passed:
                failures.append(prefix + _body_failure(row.label or "全部范围", row.result, row.result.matter))
    if failures:
        reason = f"{title}表决未通过——" + "；".join(failures)
        if len(reason) > 480:
            reason = reason[:479] + "…"
        return Consent(survey.id, survey.title, support, yes, voters, eligible=False, reason=reason,
                       note="表决未通过")
    bodies = sum(len(t.rows) for t in tallies)
    return Consent(survey.id, survey.title, support, yes, voters, eligible=True,
                   note=f"{title}表决通过（{bodies} 个表决单元）")


# --- computation -----------------------------------------------------------------------------------

@dataclass
class _Raw:
    project: Project
    intensity: demand_intensity.Intensity
    consent: Consent
    values: dict[str, float]
    notes: dict[str, str]


def _raws(projects: list[Project], as_of: date, consents: dict[Optional[int], Consent]) -> list[_Raw]:
    """Every project's raw factors; the demand of all of them read in one pass over the signals."""
    found = demand_intensity.scoring_intensities({p.id: (p.estate_ids, p.themes) for p in projects}, as_of)
    return [_raw_of(p, found[p.id], consents) for p in projects]


def _raw_of(project: Project, found: demand_intensity.Intensity, consents: dict[Optional[int], Consent]) -> _Raw:
    key = project.consent_survey_id
    if key not in consents:
        consents[key] = consent_of(project.consent_survey)
    consent = consents[key]
    cost = Decimal(project.cost_wan or 0)
    efficiency = float(project.households_covered or 0) / float(cost) if cost > 0 else 0.0
    values = {"demand": found.per_100, "support": consent.support, "urgency": found.urgent_share,
              "category": project.category.factor, "cost": efficiency}
    notes = {
        "demand": f"{found.counted} 条计入信号，衰减后合计 {found.weighted:.2f}，覆盖 {found.households} 户",
        "support": (f"{consent.yes_voters}/{consent.voters} 位参与表决业主同意" if consent.voters
                    else (NO_SURVEY_NOTE + "，按 0.5 计" if consent.survey_id is None else "尚无业主表决，按 0.5 计")),
        "urgency": f"{found.urgent}/{found.counted} 条为紧急" if found.counted else "没有计入的信号",
        "category": f"{project.category.label}，系数 {project.category.factor}",
        "cost": (f"覆盖 {project.households_covered} 户 ÷ {cost.quantize(Decimal('0.01'))} 万元" if cost > 0
                 else "投资额为 0，无法计算"),
    }
    return _Raw(project, found, consent, values, notes)


def _load(ids: Optional[Iterable[int]] = None, statuses=CANDIDATE_STATUSES) -> list[Project]:
    stmt = (select(Project).options(selectinload(Project.estate_links).selectinload(ProjectEstate.estate),
                                    selectinload(Project.theme_links), selectinload(Project.street),
                                    selectinload(Project.consent_survey))
            .order_by(Project.id))
    if statuses is not None:
        stmt = stmt.where(Project.status.in_(list(statuses)))
    if ids is not None:
        stmt = stmt.where(Project.id.in_(list(ids)))
    return list(db.session.scalars(stmt))


def _score(raws: list[_Raw], weight_set: WeightSet, as_of: date, *, scale_over: list[_Raw],
           candidate_ids: set[int]) -> list[RankedProject]:
    maxima = {code: max([r.values[code] for r in scale_over] + [0.0]) for code, _, _ in FACTORS}
    weights = weight_set.weights
    scored = []
    for raw in raws:
        factors = []
        for code, label, _ in FACTORS:
            top = maxima[code]
            scaled = min(raw.values[code] / top, 1.0) if top > 0 else 0.0
            weight = float(weights.get(code, 0.0))
            factors.append(FactorScore(code, label, raw.values[code], scaled, weight, 100 * weight * scaled, top,
                                       raw.notes[code]))
        p = raw.project
        scored.append(RankedProject(
            project=p, rank=None, total=sum(f.points for f in factors), factors=factors,
            eligible=raw.consent.eligible, ineligible_reason=raw.consent.reason,
            weight_set_version=weight_set.version,
            urgent_basic=p.category is ProjectCategory.basic and raw.intensity.urgent_share >= URGENT_BASIC_SHARE,
            as_of=as_of, candidate=p.id in candidate_ids, candidates=len(candidate_ids),
            eligibility_note=raw.consent.note if raw.consent.eligible else "不具备实施条件",
            consent=raw.consent, intensity=raw.intensity))
    return scored


def rank_order(item: RankedProject) -> tuple:
    """Highest total first; ties by name then id, so the order never depends on the database."""
    return (-round(item.total, 9), item.project.name, item.project.id)


def _ranked(raws: list[_Raw], weight_set: WeightSet, as_of: date) -> list[RankedProject]:
    ranked = sorted(_score(raws, weight_set, as_of, scale_over=raws, candidate_ids={r.project.id for r in raws}),
                    key=rank_order)
    for position, item in enumerate(ranked, start=1):
        item.rank = position
    return ranked


def rank_all(*, as_of: Optional[date] = None, weight_set: Optional[WeightSet] = None) -> list[RankedProject]:
    """Every candidate of the district, ranked (no scoping: callers scope what they show)."""
    as_of = as_of or local_today()
    weight_set = weight_set or current_weight_set()
    return _ranked(_raws(_load(), as_of, {}), weight_set, as_of)


def _enum(value, enum_type, what: str):
    if value is None or value == "":
        return None
    if isinstance(value, enum_type):
        return value
    try:
        return enum_type(str(value))
    except ValueError:
        raise ServiceError(f"未知的{what}：{value}") from None


def rank(user, *, street_id: Optional[int] = None, category=None, status=None,
         as_of: Optional[date] = None) -> list[RankedProject]:
    """The ranked candidates `user` may see, filtered. Ranks, maxima and scaling are district-wide."""
    category = _enum(category, ProjectCategory, "项目类别")
    status = _enum(status, ProjectStatus, "项目状态")
    if status is not None and status not in CANDIDATE_STATUSES:
        raise ServiceError("排序只包括储备和入库项目。")
    if street_id is not None and street_id != "":
        try:
            street_id = int(street_id)
        except (TypeError, ValueError):
            raise ServiceError(f"街道参数无效：{street_id}") from None
    else:
        street_id = None
    limit = street_limit(user)
    if limit is not None:
        if street_id is not None and street_id != limit:
            return []
        street_id = limit
    rows = rank_all(as_of=as_of)
    return [r for r in rows
            if (street_id is None or r.project.street_id == street_id)
            and (category is None or r.project.category is category)
            and (status is None or r.project.status is status)]


def explain(user, project, as_of: Optional[date] = None) -> RankedProject:
    """One project's score with every factor's numbers. 404 for a project outside the user's street.
    A project that is not a candidate (实施中/已完成) is scaled together with the candidates, unranked."""
    project_id = project.id if isinstance(project, Project) else int(project)
    get_scoped_or_404(Project, project_id, user)
    as_of = as_of or local_today()
    weight_set = current_weight_set()
    consents: dict[Optional[int], Consent] = {}
    raws = _raws(_load(), as_of, consents)
    found = next((item for item in _ranked(raws, weight_set, as_of) if item.project.id == project_id), None)
    if found is None:
        own = _raws(_load([project_id], statuses=None), as_of, consents)[0]
        found = _score([own], weight_set, as_of, scale_over=raws + [own], candidate_ids={r.project.id for r in raws})[0]
    # the records behind this one project's demand and urgency, for the click-through
    found.intensity = demand_intensity.scoring_intensity(found.project.estate_ids, found.project.themes, as_of)
    return found


# --- stored scores ---------------------------------------------------------------------------------

def _stored_factors(item: RankedProject) -> dict[str, Any]:
    return {f.code: {"raw": round(f.raw, 6), "maximum": round(f.maximum, 6), "scaled": round(f.scaled, 6),
                     "weight": f.weight, "points": round(f.points, 4)} for f in item.factors}


def _store(ranked: Iterable[RankedProject], weight_set: WeightSet) -> int:
    """Upsert ProjectScore rows for (project, weight_set); only rows whose numbers changed are written."""
    items = [r for r in ranked if r.candidate]
    if not items:
        return 0
    existing = {s.project_id: s for s in db.session.scalars(
        select(ProjectScore).where(ProjectScore.weight_set_id == weight_set.id,
                                   ProjectScore.project_id.in_([r.project.id for r in items])))}
    written = 0
    for item in items:
        factors = _stored_factors(item)
        total = round(item.total, 4)
        row = existing.get(item.project.id)
        if row is None:
            db.session.add(ProjectScore(project_id=item.project.id, weight_set_id=weight_set.id, total=total,
                                        factors=factors, eligible=item.eligible,
                                        ineligible_reason=item.ineligible_reason[:500]))
            written += 1
        elif (row.total, row.factors, row.eligible, row.ineligible_reason) != (
                total, factors, item.eligible, item.ineligible_reason[:500]):
            row.total, row.factors, row.eligible = total, factors, item.eligible
            row.ineligible_reason = item.ineligible_reason[:500]
            row.computed_at = utcnow()
            written += 1
    return written


def record_scores(ranked: Iterable[RankedProject]) -> int:
    """Store what was just computed (a page view): changed rows only. A concurrent writer storing the same
    computation wins harmlessly."""
    weight_set = current_weight_set()
    ranked = [r for r in ranked if r.weight_set_version == weight_set.version]
    try:
        written = _store(ranked, weight_set)
        if written:
            db.session.commit()
        return written
    except IntegrityError:
        db.session.rollback()
        return 0


def recompute(actor, as_of: Optional[date] = None) -> int:
    """The "重新计算" button: every candidate's score stored under the weights in force, logged."""
    if getattr(actor, "role", None) not in (Role.street_staff, Role.district_admin):
        raise Forbidden()
    weight_set = current_weight_set()
    ranked = rank_all(as_of=as_of, weight_set=weight_set)
    written = _store(ranked, weight_set)
    record_event(actor, "project.scores.recompute", object_type="project_scores",
                 street_id=getattr(actor, "street_id", None),
                 note=f"按权重第 {weight_set.version} 版重新计算项目得分")
    db.session.commit()
    return written


def stored_score(project_id: int, weight_set: Optional[WeightSet] = None) -> Optional[ProjectScore]:
    weight_set = weight_set or current_weight_set()
    return db.session.scalar(select(ProjectScore).where(ProjectScore.project_id == project_id,
                                                        ProjectScore.weight_set_id == weight_set.id))


__all__ = ["CANDIDATE_STATUSES", "URGENT_BASIC_SHARE", "FactorScore", "RankedProject", "Consent",
           "current_weight_set", "save_weights", "validate_weights", "weight_history", "rank", "rank_all",
           "explain", "record_scores", "recompute", "stored_score", "consent_of", "FACTOR_LABELS"]
