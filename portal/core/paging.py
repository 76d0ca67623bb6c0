"""Paging over a list already in memory, with the interface of Flask-SQLAlchemy's Pagination that the
_pager.html macro uses (page, pages, total, has_prev/has_next, prev_num/next_num)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional


@dataclass
class ListPage:
    items: list
    page: int
    pages: int
    total: int
    per_page: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1

    @property
    def first_number(self) -> int:
        """The position of this page's first item in the whole list, from 1."""
        return (self.page - 1) * self.per_page + 1


def page_of(items: list, raw_page: Optional[str], per_page: int) -> ListPage:
    """The page `raw_page` (a query-string value) of `items`; nonsense or out of range gives the nearest page."""
    raw = (raw_page or "1").strip()
    number = int(raw) if raw.isdigit() and len(raw) < 7 else 1
    pages = max(math.ceil(len(items) / per_page), 1)
    number = min(max(number, 1), pages)
    start = (number - 1) * per_page
    return ListPage(items[start:start + per_page], number, pages, len(items), per_page)
