"""Demand gaps and the after-completion check."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("project_demand", __name__, url_prefix="/projects")
