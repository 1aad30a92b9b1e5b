"""app.blueprint.Blueprint: `doc` and `alt_response` document a view as flask-smorest's do,
and add no layer a request must go through."""

import flask_smorest
import marshmallow as ma
from flask import Flask
from flask.views import MethodView

from app.blueprint import Blueprint


class Thing(ma.Schema):
    name = ma.fields.String()


def _documented(blueprint_class, name: str) -> tuple[dict, object]:
    blp = blueprint_class(name, __name__, url_prefix=f"/{name}")

    @blp.route("/<int:thing_id>")
    class Things(MethodView):
        @blp.doc(summary="A thing", parameters=[{"in": "header", "name": "X-Try", "schema": {"type": "string"}}])
        @blp.response(200, Thing)
        @blp.alt_response(404, description="No such thing")
        @blp.alt_response(201, schema=Thing, description="Made", success=True, headers={"X-Made": {"schema": {}}})
        @blp.alt_response(200, content_type="image/png", schema={"type": "string"}, success=True)
        def get(self, thing_id):
            return {"name": f"thing {thing_id}"}

    app = Flask(name)
    app.config.update(API_TITLE="t", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    api = flask_smorest.Api(app)
    api.register_blueprint(blp)
    spec = api.spec.to_dict()["paths"][f"/{name}/{{thing_id}}"]
    return spec, (app, Things)


def test_the_documentation_is_flask_smorests():
    theirs, _ = _documented(flask_smorest.Blueprint, "things")
    ours, _ = _documented(Blueprint, "things")
    assert ours == theirs
    assert set(ours["get"]["responses"]) == {"200", "201", "404", "default"}


def test_a_request_reaches_the_view_through_no_documentation_layer():
    _, (app, things) = _documented(Blueprint, "things")
    assert app.test_client().get("/things/7").get_json() == {"name": "thing 7"}
    # Only flask-smorest's `response` (which serialises the answer) wraps the view.
    layers, func = 0, things.get
    while hasattr(func, "__wrapped__"):
        layers, func = layers + 1, func.__wrapped__
    assert layers == 1
