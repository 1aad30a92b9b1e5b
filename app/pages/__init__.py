"""The web pages (server-rendered shells; their data comes from the API)."""

from flask import Blueprint, Flask, render_template

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    return render_template("index.html")


@bp.get("/committee")
def committee():
    return render_template("committee.html")


@bp.get("/map")
def coverage_map():
    return render_template("map.html")


@bp.get("/healthz")
def healthz():
    from app.services.health import check

    return check()


def register(app: Flask) -> None:
    from app.pages import inspector_app

    app.register_blueprint(bp)
    inspector_app.register(app)
