"""The fixed demand themes (诉求主题) of THEMES.md, loaded from ``nlp/data/themes.csv``.

>>> THEME_CODES[:3]
['parking', 'ev_charging', 'drainage']
>>> theme_name("parking")
'停车管理'
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Theme", "THEMES", "THEME_CODES", "OTHER", "MAX_THEMES", "theme_name", "get_theme", "themes_file"]

OTHER = "other"
MAX_THEMES = 3


@dataclass(frozen=True)
class Theme:
    code: str
    name: str
    description: str
    keywords: tuple[str, ...] = ()


def themes_file() -> Path:
    return Path(__file__).resolve().parent / "data" / "themes.csv"


def _load() -> tuple[Theme, ...]:
    with open(themes_file(), encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for row in rows:
        kws = tuple(k for k in (row.get("keywords") or "").split("|") if k)
        out.append(Theme(row["code"].strip(), row["name"].strip(), row["description"].strip(), kws))
    return tuple(out)


THEMES: list[Theme] = list(_load())
THEME_CODES: list[str] = [t.code for t in THEMES]
_BY_CODE = {t.code: t for t in THEMES}


def get_theme(code: str) -> Theme:
    """The :class:`Theme` of ``code``; ``KeyError`` when unknown."""
    return _BY_CODE[code]


def theme_name(code: str) -> str:
    """Chinese name of a theme code (``"parking"`` → ``"停车管理"``); unknown codes are returned unchanged."""
    t = _BY_CODE.get(code)
    return t.name if t else code
