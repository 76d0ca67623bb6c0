"""The annual plan (年度计划, DESIGN.md §6): which eligible projects a budget should fund.

1. Projects that are 不具备实施条件 are left out with the tally's reason.
2. Urgent basic projects (scoring.URGENT_BASIC_SHARE) are taken first, in score order, each one that still fits.
3. The rest: an exact 0/1 knapsack maximising the total score with the budget that remains.

Money is counted in integer hundredths of 万元 (costs have two decimals) and scores in integer units of
1/10000 point, so the optimum is exact and the same on every machine. The knapsack keeps a map of reachable
cost → best (score, choice) with dominance pruning (a dearer combination that does not score more is
dropped), so its size never depends on the size of the budget.
Ties: a higher total score first; at equal score the cheaper combination; at equal cost too, the one with
the better-ranked project where the two combinations first differ.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Optional, Sequence

from portal.core.errors import ServiceError
from portal.projects import scoring

CENT = Decimal("0.01")
SCORE_UNITS = 10000  # score units per point
MAX_BUDGET_WAN = Decimal("100000000")  # 1 万亿: beyond any district's year

REASON_INELIGIBLE = "不具备实施条件"
REASON_OVER_BUDGET = "超出剩余预算"
REASON_BETTER_COMBINATION = "预算内其他组合总分更高"
REASON_ZERO_SCORE = "得分为 0，不安排"
REASON_URGENT_FIRST = "紧急基础类，优先安排"
REASON_BEST_COMBINATION = "总分最高的组合"


def cents(amount: Decimal) -> int:
    return int((Decimal(amount) * 100).to_integral_value())


def from_cents(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(CENT)


def score_units(total: float) -> int:
    return int(round(total * SCORE_UNITS))


def parse_budget(text: Any) -> Decimal:
    """A budget typed on the page ("800", "1,200.5", "800万") as 万元 with two decimals, or a Chinese error."""
    raw = str(text if text is not None else "").strip().replace(",", "").replace("，", "")
    if raw.endswith("万元"):
        raw = raw[:-2]
    elif raw.endswith("万"):
        raw = raw[:-1]
    if not raw:
        raise ServiceError("请填写年度预算（万元）。")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ServiceError(f"预算“{str(text)[:20]}”不是金额，请填写万元数，如 800 或 1250.50。") from None
    if not value.is_finite():
        raise ServiceError("预算应为有限的金额（万元）。")
    if value < 0:
        raise ServiceError("预算不能为负数。")
    if value > MAX_BUDGET_WAN:
        raise ServiceError("预算过大，请按万元填写。")
    if value != value.quantize(CENT):
        raise ServiceError("预算最多保留两位小数（万元）。")
    return value.quantize(CENT)


def knapsack(items: Sequence[tuple[int, int]], capacity: int) -> list[int]:
    """Indexes of the items (cost, score) with the highest total score whose total cost ≤ capacity.

    Items are given best-ranked first; see the module docstring for ties. A choice is a bitmask where the
    best-ranked item is the highest bit, so "the better-ranked project where they first differ" is simply
    the larger mask.
    """
    n = len(items)
    states: dict[int, tuple[int, int]] = {0: (0, 0)}  # cost → (score, mask)
    for index, (cost, score) in enumerate(items):
        if cost > capacity or score <= 0:
            continue  # cannot fit, or adds nothing (and we prefer the cheaper plan)
        bit = 1 << (n - 1 - index)
        merged = dict(states)
        for have_cost, (have_score, mask) in states.items():
            new_cost = have_cost + cost
            if new_cost > capacity:
                continue
            candidate = (have_score + score, mask | bit)
            if new_cost not in merged or candidate > merged[new_cost]:
                merged[new_cost] = candidate
        # Dominance: walking up in cost, keep only states that score more than every cheaper one.
        states = {}
        best = -1
        for c in sorted(merged):
            if merged[c][0] > best:
                states[c] = merged[c]
                best = merged[c][0]
    best_cost = min(states, key=lambda c: (-states[c][0], c, -states[c][1]))
    mask = states[best_cost][1]
    return [i for i in range(n) if mask >> (n - 1 - i) & 1]


@dataclass
class PlanItem:
    ranked: scoring.RankedProject
    reason: str
    urgent_first: bool = False

    @property
    def project(self):
        return self.ranked.project

    def as_dict(self) -> dict[str, Any]:
        return {**self.ranked.as_dict(), "plan_reason": self.reason, "urgent_first": self.urgent_first}


@dataclass
class AnnualPlan:
    budget_wan: Decimal
    as_of: date
    weight_set_version: int
    street_id: Optional[int]
    chosen: list[PlanItem] = field(default_factory=list)
    left_out: list[PlanItem] = field(default_factory=list)

    @property
    def total_cost(self) -> Decimal:
        return sum((Decimal(i.project.cost_wan) for i in self.chosen), Decimal("0")).quantize(CENT)

    @property
    def total_score(self) -> float:
        return sum(i.ranked.total for i in self.chosen)

    @property
    def budget_left(self) -> Decimal:
        return (self.budget_wan - self.total_cost).quantize(CENT)

    @property
    def urgent_cost(self) -> Decimal:
        return sum((Decimal(i.project.cost_wan) for i in self.chosen if i.urgent_first), Decimal("0")).quantize(CENT)

    def as_dict(self) -> dict[str, Any]:
        return {
            "budget_wan": str(self.budget_wan), "as_of": self.as_of.isoformat(), "street_id": self.street_id,
            "weight_set_version": self.weight_set_version, "urgent_basic_share": scoring.URGENT_BASIC_SHARE,
            "totals": {"cost_wan": str(self.total_cost), "score": round(self.total_score, 2),
                       "budget_left_wan": str(self.budget_left), "chosen": len(self.chosen),
                       "left_out": len(self.left_out)},
            "chosen": [i.as_dict() for i in self.chosen],
            "left_out": [i.as_dict() for i in self.left_out],
        }


def _wan(value: int) -> str:
    return f"{from_cents(value)} 万元"


def annual_plan(user, budget_wan: Decimal, *, street_id: Optional[int] = None,
                as_of: Optional[date] = None) -> AnnualPlan:
    """The plan over the candidates `user` may see (a street's staff: their street's)."""
    budget = parse_budget(budget_wan)
    as_of = as_of or scoring.local_today()
    ranked = scoring.rank(user, street_id=street_id, as_of=as_of)
    weight_set = scoring.current_weight_set()
    plan = AnnualPlan(budget, as_of, weight_set.version, street_id)
    remaining = cents(budget)
    left: list[PlanItem] = []

    eligible = []
    for item in ranked:
        if item.eligible:
            eligible.append(item)
        else:
            left.append(PlanItem(item, f"{REASON_INELIGIBLE}：{item.ineligible_reason}"))

    rest = []
    for item in eligible:  # ranked order: urgent basic ones in score order
        if not item.urgent_basic:
            rest.append(item)
            continue
        cost = cents(item.project.cost_wan)
        if cost <= remaining:
            plan.chosen.append(PlanItem(item, REASON_URGENT_FIRST, urgent_first=True))
            remaining -= cost
        else:
            left.append(PlanItem(item, f"{REASON_OVER_BUDGET}（紧急基础类，需 {_wan(cost)}，剩余 {_wan(remaining)}）",
                                 urgent_first=True))

    capacity = remaining
    values = [(cents(item.project.cost_wan), score_units(item.total)) for item in rest]
    picked = set(knapsack(values, capacity))
    spent = sum(values[i][0] for i in picked)
    for index, item in enumerate(rest):
        cost, score = values[index]
        if index in picked:
            plan.chosen.append(PlanItem(item, REASON_BEST_COMBINATION))
        elif cost > capacity:
            left.append(PlanItem(item, f"{REASON_OVER_BUDGET}（需 {_wan(cost)}，可用 {_wan(capacity)}）"))
        elif score <= 0:
            left.append(PlanItem(item, REASON_ZERO_SCORE))
        else:
            left.append(PlanItem(item, f"{REASON_BETTER_COMBINATION}（安排后剩余 {_wan(capacity - spent)}，"
                                       f"不足 {_wan(cost)}）" if cost > capacity - spent else REASON_BETTER_COMBINATION))
    plan.chosen.sort(key=lambda i: (not i.urgent_first, scoring.rank_order(i.ranked)))
    plan.left_out = sorted(left, key=lambda i: scoring.rank_order(i.ranked))
    return plan


def plan_workbook(plan: AnnualPlan, user) -> tuple[Any, int]:
    """The plan as an Excel workbook: the chosen projects, then those left out with the reason. Figures and
    names of projects and places only (no personal data). Returns the workbook and its data rows."""
    import io

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    bold = Font(bold=True)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("年度计划")
    for column, width in zip("ABCDEFGHIJKL", (8, 8, 30, 12, 8, 8, 12, 10, 8, 10, 10, 60)):
        sheet.column_dimensions[column].width = width
    scope = user.street.name if getattr(user, "street_id", None) and user.street else "全区"
    sheet.append(["年度预算（万元）", float(plan.budget_wan), "数据范围", scope, "权重版本", plan.weight_set_version,
                  "计算日期", plan.as_of.isoformat()])
    sheet.append(["安排合计（万元）", float(plan.total_cost), "总分合计", round(plan.total_score, 2),
                  "剩余预算（万元）", float(plan.budget_left)])
    sheet.append([])
    header = ["安排", "全区排名", "项目", "街道", "类别", "状态", "投资（万元）", "覆盖户数", "总分", "紧急基础类",
              "实施条件", "说明"]
    cells = [WriteOnlyCell(sheet, value=h) for h in header]
    for cell in cells:
        cell.font = bold
    sheet.append(cells)
    rows = 0
    for label, items in (("安排", plan.chosen), ("未安排", plan.left_out)):
        for item in items:
            p, r = item.project, item.ranked
            sheet.append([label, r.rank, p.name, p.street.name if p.street else "", p.category.label, p.status.label,
                          float(p.cost_wan), p.households_covered, round(r.total, 2), "是" if r.urgent_basic else "",
                          "具备" if r.eligible else "不具备实施条件", item.reason])
            rows += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer, rows
