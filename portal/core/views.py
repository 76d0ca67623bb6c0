from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from portal.areas.models import Community, Estate, Household, Street
from portal.core.scoping import scoped
from portal.extensions import db

bp = Blueprint("core", __name__)


@bp.get("/")
def home():
    return render_template("core/home.html")


@bp.get("/workbench")
@login_required
def workbench():
    def count(model):
        return db.session.scalar(scoped(select(func.count()).select_from(model), model))

    counts = {
        "streets": count(Street),
        "communities": count(Community),
        "estates": count(Estate),
        "households": count(Household) if not current_user.is_operator else None,
    }
    return render_template("core/workbench.html", counts=counts)


@bp.get("/healthz")
def healthz():
    db.session.execute(select(1))
    return {"status": "ok"}
