"""The project library pages (项目库): list, create, edit, status, Excel import and export."""
from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("projects", __name__, url_prefix="/projects")


@bp.route("/")
@login_required
def index():
    return "项目库"
