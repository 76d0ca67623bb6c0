"""Free-text address → estate, with a confidence (DESIGN.md §2).

Built once from estate names, aliases and road+number patterns; matching a ticket is a few dict
look-ups, so a 100,000-row import stays fast.
"""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Optional

ROAD_NUMBER = re.compile(
    r"([\u4e00-\u9fffA-Za-z0-9]{1,12}?(?:大道|大街|路|街|巷|道|里|弄|胡同|村))"
    r"(\d{1,5})(?:\s*[-—~至到]\s*(\d{1,5}))?号"
)
AUTO_PLACE_CONFIDENCE = 0.7  # below this a person picks the estate

NAME_CONFIDENCE = 0.95
ALIAS_CONFIDENCE = 0.9
ROAD_NUMBER_CONFIDENCE = 0.85
ROAD_ONLY_CONFIDENCE = 0.45
AMBIGUOUS_PENALTY = 0.5


@dataclass(frozen=True)
class EstateEntry:
    estate_id: int
    street_id: int
    name: str
    aliases: tuple[str, ...]
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    estate_id: int
    street_id: int
    confidence: float
    reason: str


def normalise_address(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"\s+", "", text)


def _parse_pattern(pattern: str) -> Optional[tuple[str, int, int]]:
    match = ROAD_NUMBER.search(normalise_address(pattern))
    if not match:
        return None
    low = int(match.group(2))
    high = int(match.group(3) or low)
    return match.group(1), min(low, high), max(low, high)


class Gazetteer:
    def __init__(self, entries: Iterable[EstateEntry]):
        self.entries = {e.estate_id: e for e in entries}
        # names and aliases, indexed by their first two characters for a quick scan of an address
        self._names: dict[str, list[tuple[str, int, float]]] = defaultdict(list)
        name_owners: dict[str, set[int]] = defaultdict(set)
        for entry in self.entries.values():
            for text, confidence in [(entry.name, NAME_CONFIDENCE)] + [(a, ALIAS_CONFIDENCE) for a in entry.aliases]:
                text = normalise_address(text)
                if len(text) >= 2:
                    name_owners[text].add(entry.estate_id)
                    self._names[text[:2]].append((text, entry.estate_id, confidence))
        self._shared_names = {name for name, owners in name_owners.items() if len(owners) > 1}
        self._roads: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
        for entry in self.entries.values():
            for pattern in entry.patterns:
                parsed = _parse_pattern(pattern)
                if parsed:
                    road, low, high = parsed
                    self._roads[road].append((low, high, entry.estate_id))

    @classmethod
    def from_estates(cls, estates) -> "Gazetteer":
        return cls(EstateEntry(e.id, e.street_id, e.name, tuple(e.aliases or ()), tuple(e.address_patterns or ()))
                   for e in estates)

    def _by_name(self, address: str) -> list[tuple[int, float, str]]:
        found: dict[int, tuple[int, float, str]] = {}
        for i in range(len(address) - 1):
            for text, estate_id, confidence in self._names.get(address[i:i + 2], ()):
                if address.startswith(text, i):
                    if text in self._shared_names:
                        confidence *= AMBIGUOUS_PENALTY
                    # a longer name beats a shorter one it contains (桂花苑二期 over 桂花苑)
                    score = confidence + min(len(text), 20) / 1000
                    if estate_id not in found or found[estate_id][1] < score:
                        found[estate_id] = (estate_id, score, f"名称「{text}」")
        return sorted(found.values(), key=lambda item: -item[1])

    def _by_road(self, address: str) -> list[tuple[int, float, str]]:
        results = []
        for match in ROAD_NUMBER.finditer(address):
            number = int(match.group(2))
            # the regex grabs any prefix too ("城南区桂花路"): take the longest suffix that is a known road
            text = match.group(1)
            road = next((text[k:] for k in range(len(text) - 1) if text[k:] in self._roads), text)
            candidates = self._roads.get(road, [])
            hits = [estate_id for low, high, estate_id in candidates if low <= number <= high]
            for estate_id in hits:
                results.append((estate_id, ROAD_NUMBER_CONFIDENCE / len(hits), f"门牌「{road}{number}号」"))
            if not hits and candidates:
                estates = {estate_id for _, _, estate_id in candidates}
                for estate_id in estates:
                    results.append((estate_id, ROAD_ONLY_CONFIDENCE / len(estates), f"道路「{road}」"))
        return sorted(results, key=lambda item: -item[1])

    def match(self, *texts: str) -> Optional[Match]:
        """Best estate for an address (and, failing that, the complaint text), or None."""
        best: Optional[tuple[int, float, str]] = None
        for text in texts:
            address = normalise_address(text)
            if not address:
                continue
            for estate_id, score, reason in self._by_name(address)[:1] + self._by_road(address)[:1]:
                if best is None or score > best[1]:
                    best = (estate_id, score, reason)
            if best and best[1] >= AUTO_PLACE_CONFIDENCE:
                break  # the address settled it; the free text is only a fallback
        if best is None:
            return None
        entry = self.entries[best[0]]
        return Match(entry.estate_id, entry.street_id, round(min(best[1], 1.0), 3), best[2])
