"""Scores, weights and the annual plan (优先排序与年度计划)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("priority", __name__, url_prefix="/projects")
