"""Urgent flag (紧急): an immediate danger to life or property, per THEMES.md "Severity".

Rules, one family per danger named there: gas leak, exposed live wire, structural collapse or falling
facade, fire hazard in an escape route, somebody trapped in a lift (or a lift dropping), sewage flooding
into homes — plus a fire that is burning now. A rule hit is ignored when the words just before it negate
it or make it hypothetical (没有漏气、不漏电、担心会塌、一旦发生火灾、以防…), which is cheap and catches
most false alarms.

>>> is_urgent("3单元楼道里一股煤气味，怀疑漏气了")
True
>>> is_urgent("燃气公司上门检查过，没有漏气")
False
"""
from __future__ import annotations

import re

from .tokenize import normalize

__all__ = ["is_urgent", "urgent_reasons", "RULES"]

_GAP = r"[^。!?;]{0,%d}"  # a gap inside one sentence

RULES: dict[str, list[str]] = {
    "gas_leak": [
        r"漏气|跑气|气体外泄",
        r"(?:燃气|煤气|天然气|液化气|气)(?:管道|管子|管|罐|表|阀门|阀|瓶)?" + (_GAP % 6) + r"(?:泄漏|泄露)",
        r"(?:燃气|煤气|天然气|液化气)(?:的)?(?:味|气味|味道)",
        r"闻到" + (_GAP % 6) + r"(?:燃气|煤气|天然气|液化气)",
        r"(?:燃气|煤气|天然气)" + (_GAP % 4) + r"(?:管|表|阀|罐)" + (_GAP % 6) + r"(?:破|断|裂|坏了|漏)",
    ],
    "live_wire": [
        r"(?:电线|线路|电缆|电源线|高压线|电力线|火线|导线|线头)" + (_GAP % 8)
        + r"(?:裸露|外露|漏电|带电|冒火|打火|起火|冒烟|着火|短路|烧焦|掉落|垂落|断落|掉在|掉到|拖在地|耷拉|垂到|泡在水)",
        r"(?:裸露|外露)" + (_GAP % 4) + r"(?:的)?(?:电线|线路|电缆|线头)",
        r"漏电|触电|电到人|电伤",
        r"(?:配电箱|电表箱|电箱|变压器|电线杆|电杆)" + (_GAP % 8) + r"(?:冒火|打火|起火|冒烟|着火|爆炸|漏电|倾斜|倒|歪)",
    ],
    "collapse": [
        r"(?:倒塌|坍塌|垮塌|塌陷|塌方|塌了|垮了|摇摇欲坠|随时(?:可能|会|都会|有可能)?(?:倒|塌|垮|掉|砸))",
        r"(?:外墙|墙皮|墙面|瓷砖|墙砖|外立面|窗户|玻璃|阳台|屋檐|天花板|吊顶|楼板|水泥块|混凝土块|广告牌|空调外机|预制板|女儿墙)"
        + (_GAP % 10) + r"(?:脱落|掉落|掉下|坠落|砸|剥落下来|掉了下来|往下掉)",
        r"(?:砸伤|砸中|砸到|砸坏|砸死)",
        r"(?:房屋|房子|楼房|墙体|承重墙|大楼|楼体)" + (_GAP % 8) + r"(?:倾斜|下沉|大面积开裂|裂缝越来越大|危险)",
    ],
    "escape_route_fire": [
        r"(?:楼道|楼梯间?|过道|走廊|消防通道|安全出口|疏散通道|逃生通道|安全通道|一楼大厅|门厅)" + (_GAP % 14)
        + r"(?:充电|飞线|拉线|插线板|煤气罐|液化气罐|气罐|气瓶|汽油)",
        r"(?:飞线充电|拉线充电|私拉电线|充电|煤气罐|液化气罐|气瓶|汽油)" + (_GAP % 14)
        + r"(?:楼道|楼梯间?|过道|走廊|消防通道|安全出口|疏散通道|逃生通道|安全通道)",
        r"(?:着火|起火|失火|冒烟|烧起来|爆燃|自燃|冒火)了|(?:正在|已经)(?:着火|起火|燃烧)|火情",
    ],
    "lift_trapped": [
        r"困(?:在|于)?(?:电梯|梯)|(?:电梯|梯)(?:里|内|中)?" + (_GAP % 6) + r"(?:被困|困人|困住|关住|卡住人|出不来)|被困|困人",
        r"(?:电梯|轿厢)" + (_GAP % 8) + r"(?:下坠|坠落|急坠|溜梯|下滑|冲顶|蹲底|掉下|自由落体|突然掉|往下掉|夹人|夹伤)",
    ],
    "sewage_flood": [
        r"(?:污水|粪水|脏水|黑水|下水道|化粪池|马桶|地漏|管道|雨水|积水)" + (_GAP % 12)
        + r"(?:倒灌|漫进|涌进|流进|灌进|冒进|淹进|进屋|进了屋|进家|进了家|入户|进到家|流到家|漫到家|返到家|反到家|淹了家|冒出来|往外冒|溢到(?:屋|家|房))",
        r"(?:家|屋|室内|房间|卧室|客厅|厨房|卫生间)" + (_GAP % 6) + r"(?:被淹|进水|全是(?:污水|粪水|脏水)|淹了)",
        r"倒灌",
    ],
}

# words that, shortly before a hit, turn it into a non-event or a worry
_NEGATION = re.compile(
    r"(?:没有|没|不会|不再|不|未|无|并未|并没有|尚未|已经?修好|已经?处理|已经?解决|排除|避免|防止|预防|以防|防范|"
    r"担心|害怕|怕|生怕|万一|如果|假如|一旦|若|是否|会不会|有没有|能否|可能会|容易|存在.{0,2}隐患|隐患|以免|杜绝|防)"
    r"[^。!?;,]{0,4}$"
)

_COMPILED = {k: [re.compile(p) for p in pats] for k, pats in RULES.items()}


def _hit(text: str, rx: re.Pattern) -> bool:
    for m in rx.finditer(text):
        before = text[max(0, m.start() - 8) : m.start()]
        if not _NEGATION.search(before):
            return True
    return False


def urgent_reasons(text: str | None, normalized: bool = False) -> list[str]:
    """The danger families (``RULES`` keys) found in ``text``; empty when not urgent."""
    if not text:
        return []
    t = text if normalized else normalize(text)
    return [name for name, rxs in _COMPILED.items() if any(_hit(t, rx) for rx in rxs)]


def is_urgent(text: str | None, normalized: bool = False) -> bool:
    """True when ``text`` reports an immediate danger to life or property."""
    if not text:
        return False
    t = text if normalized else normalize(text)
    for rxs in _COMPILED.values():
        for rx in rxs:
            if _hit(t, rx):
                return True
    return False
