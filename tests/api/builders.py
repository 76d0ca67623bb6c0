"""Small builders for the API tests: keys, a two-street world, and request helpers."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Optional

from portal.api.models import ApiKey
from portal.api.services import KEY_PREFIX, hash_key
from portal.areas.models import Street
from portal.core.time import utcnow
from portal.extensions import db

_keys = iter(range(1, 10**6))


def make_api_key(street: Optional[Street] = None, *, revoked: bool = False, name: str = "12345 热线系统"):
    """A key row and the key itself (written directly: fast, no event)."""
    raw = f"{KEY_PREFIX}test-{next(_keys):06d}-abcdefghijklmnopqrstuvwxyz"
    key = ApiKey(name=name, prefix=raw[:10], key_hash=hash_key(raw), street_id=street.id if street else None,
                 revoked_at=utcnow() if revoked else None)
    db.session.add(key)
    db.session.commit()
    return key, raw


def xml_of(response) -> ET.Element:
    assert response.content_type == "application/xml; charset=utf-8", response.content_type
    assert response.data.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n')
    return ET.fromstring(response.data)


def json_of(response):
    assert response.content_type == "application/json; charset=utf-8", response.content_type
    return json.loads(response.data)


def xml_rows(root: ET.Element, item: str) -> list[dict]:
    """<root><item><a>1</a>…</item>…</root> → [{"a": "1", …}, …] (empty elements → None)."""
    assert all(child.tag == item for child in root), [child.tag for child in root]
    return [{field.tag: field.text for field in child} for child in root]


def errors_of(response, fmt: str) -> list[tuple[int, str]]:
    if fmt == "xml":
        root = xml_of(response)
        assert root.tag == "errors"
        return [(int(row["code"]), row["description"]) for row in xml_rows(root, "error")]
    return [(row["code"], row["description"]) for row in json_of(response)]
