"""Personal-data masking (个人信息脱敏) for texts shown outside the operator/admin roles.

* mobile numbers: ``13812345678`` → ``138****5678`` (also with spaces/dashes, ``+86``/``86`` prefix);
* landlines: area code and the last 2–4 digits kept: ``0731-84567890`` → ``0731-****7890``;
* 18-digit ID-card numbers: first 6 and last 4 kept: ``430102199001011234`` → ``430102********1234``;
* names after 来电人/联系人/业主/反映人/投诉人/当事人/户主/姓名 (and ``X先生``/``X女士``): ``张三`` → ``张*``.

>>> mask_text("来电人张三，电话13812345678，身份证430102199001011234")
'来电人张*，电话138****5678，身份证430102********1234'
"""
from __future__ import annotations

import re

__all__ = ["mask_text", "mask_name", "mask_phone", "mask_id_card", "NAME_CUES"]

_FW_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")

#: words after which a person's name follows
NAME_CUES = ("来电人", "联系人", "业主", "反映人", "投诉人", "举报人", "当事人", "户主", "姓名", "来电者", "申请人", "求助人", "报修人")

# common words that follow a cue but are not names (业主反映, 业主委员会, 联系人电话 ...)
_NOT_NAME_START = set(
    "反称表说要希请称们委大会群代投举多家自在的和与及等向对给已于从都也是不没说诉称电联方信手姓女男先老本该其这那称一二三四五六七八九十几全部各每个"
)
_NOT_NAME_WORDS = (
    "反映", "表示", "委员", "大会", "代表", "投诉", "举报", "电话", "手机", "群里", "自行", "自己", "朋友", "本人",
    "称", "说", "要求", "希望", "认为", "提出", "信息", "姓名", "们", "共有", "共同", "家中", "家里", "及其", "所有",
)

_COMMON_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐", "澹台", "端木", "百里", "呼延", "南宫", "独孤")


def mask_name(name: str | None) -> str:
    """Keep the first character, star the rest: ``张三`` → ``张*``, ``欧阳娜娜`` → ``欧***``."""
    if not name:
        return ""
    name = name.strip()
    if len(name) <= 1:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_phone(phone: str | None) -> str:
    """``13812345678`` → ``138****5678``; landline ``0731-84567890`` → ``0731-****7890``.

    Separators are kept in place; digits other than the kept ones become ``*``.
    """
    if not phone:
        return ""
    s = str(phone).translate(_FW_DIGITS)
    digits = [i for i, ch in enumerate(s) if ch.isdigit()]
    n = len(digits)
    if n < 5:
        return s
    chars = list(s)
    ds = "".join(s[i] for i in digits)
    # strip a country code for the decision
    core = ds[2:] if ds.startswith("86") and n in (13, 14) else ds
    offset = n - len(core)
    if len(core) == 11 and core[0] == "1":  # mobile: keep 3 + 4
        keep = set(range(0, offset + 3)) | set(range(n - 4, n))
    else:  # landline / other: keep the area code (0xx / 0xxx) and the last digits
        area = 0
        if core.startswith("0"):
            area = 3 if core[1:3] in {"10", "20", "21", "22", "23", "24", "25", "27", "28", "29"} or core[1] in "12" else 4
            if len(core) - area < 7:
                area = min(area, max(len(core) - 7, 0))
        tail = 4 if len(core) - area >= 8 else (3 if len(core) - area >= 7 else 2)
        keep = set(range(offset, offset + area)) | set(range(n - tail, n))
    for k, i in enumerate(digits):
        if k not in keep:
            chars[i] = "*"
    return "".join(chars)


def mask_id_card(number: str) -> str:
    """18-digit ID number (last may be X): keep the first 6 and the last 4."""
    s = number.strip()
    if len(s) < 10:
        return "*" * len(s)
    return s[:6] + "*" * (len(s) - 10) + s[-4:]


_ID_RE = re.compile(r"(?<![0-9０-９])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx](?![0-9０-９Xx])")
_MOBILE_RE = re.compile(r"(?<![0-9０-９])(?:(?:\+|00)?86[\s-]?)?1[3-9][0-9](?:[\s-]?[0-9]{4}){2}(?![0-9０-９])")
_LANDLINE_RE = re.compile(
    r"(?<![0-9０-９])(?:\(0[0-9]{2,3}\)\s?|0[0-9]{2,3}[\s-]?)[1-9][0-9]{2,3}[\s-]?[0-9]{4}(?:-[0-9]{1,5})?(?![0-9０-９])"
    r"|(?<=电话)[:：]?\s*[2-9][0-9]{6,7}(?![0-9０-９])"
    r"|(?<=座机)[:：]?\s*[2-9][0-9]{6,7}(?![0-9０-９])"
)
# the candidate name is in a look-ahead, so that after a cue followed by no name the scan resumes right
# after the cue (来电人姓名：周杰 – the cue 姓名 is found too)
_CUE_RE = re.compile(
    "(" + "|".join(sorted(NAME_CUES, key=len, reverse=True)) + r")(?=([:：\s]*)"
    r"((?:" + "|".join(_COMPOUND_SURNAMES) + r")?[\u4e00-\u9fff]{1,3}))"
)
# full-width digits, X and separators map 1:1 onto ASCII, so matches found in the mapped copy have the
# same positions in the original text
_FW_NUMBER = str.maketrans("０１２３４５６７８９ｘＸ＋－（）　", "0123456789xX+-() ")


def _name_len(candidate: str) -> int:
    """How many characters of ``candidate`` (1–4 CJK chars after a cue) are a name; 0 if none."""
    for cs in _COMPOUND_SURNAMES:
        if candidate.startswith(cs):
            return min(len(candidate), 4)
    if not candidate or candidate[0] in _NOT_NAME_START and candidate[0] not in _COMMON_SURNAMES:
        return 0
    for w in _NOT_NAME_WORDS:
        if candidate.startswith(w):
            return 0
    if candidate[0] not in _COMMON_SURNAMES:
        return 0
    if candidate[1:3] in ("先生", "女士", "小姐", "阿姨", "师傅", "大爷", "奶奶"):
        return 0  # 张先生: not a full name
    # a surname + 1–2 given-name characters; stop before common function characters
    n = 1
    for ch in candidate[1:3]:
        if ch in "反称说表要希请的在和与及向对给已于从都也是不没电联手等们家中说反映":
            break
        n += 1
    return n if n >= 2 else 0


def mask_text(text: str | None) -> str:
    """Mask mobile numbers, landlines, ID-card numbers and names after 来电人/联系人/业主/反映人 …

    Numbers written with full-width digits (１３８…) are masked too; the rest of the text is unchanged.
    """
    if not text:
        return text or ""
    chars = list(text)
    ascii_copy = text.translate(_FW_NUMBER)  # same length as text
    taken = [False] * len(text)
    for rx, masker in ((_ID_RE, mask_id_card), (_MOBILE_RE, mask_phone), (_LANDLINE_RE, mask_phone)):
        for m in rx.finditer(ascii_copy):
            a, b = m.span()
            if any(taken[a:b]):
                continue
            masked = masker(m.group(0))
            if len(masked) != b - a:  # pragma: no cover - maskers keep the length
                continue
            for i, ch in enumerate(masked, start=a):
                if ch == "*":
                    chars[i] = "*"
                taken[i] = True
    out = "".join(chars)

    pieces, last = [], 0
    for m in _CUE_RE.finditer(out):
        start = m.start(3)
        if start < last:
            continue
        k = _name_len(m.group(3))
        if k == 0:
            continue
        pieces.append(out[last:start])
        pieces.append(mask_name(out[start : start + k]))
        last = start + k
    pieces.append(out[last:])
    return "".join(pieces)
