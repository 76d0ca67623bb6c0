"""The public page 你说我办: what residents raised and what is being done, per estate. No login."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public_projects", __name__)
