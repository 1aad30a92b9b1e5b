"""flask-smorest's Blueprint, its documentation-only decorators adding nothing to a request.

flask-smorest's `doc` and `alt_response` put the view inside a layer of their own whose only
work, on every request, is to look up the app and call the view (`current_app.ensure_sync(func)`):
their documentation is kept on that layer. A photo's PATCH went through eleven of them
(its nine alternative answers, its request body's doc, the roles' doc). Here each records the
same documentation on the view itself and hands the view back, so the OpenAPI document is
the same (tests/unit/test_blueprint_docs.py) and a request calls the view directly."""

import inspect

import flask_smorest


def _documentation_only(decorator):
    """`decorator` (flask-smorest's), its documentation kept and its layer dropped (kept for a
    coroutine function: the layer is what has Flask run it)."""

    def apply(func):
        layer = decorator(func)
        if inspect.iscoroutinefunction(func):
            return layer
        func._apidoc = layer._apidoc  # a copy of func's own, with this decorator's added
        return func

    return apply


class Blueprint(flask_smorest.Blueprint):
    @staticmethod
    def doc(**kwargs):
        return _documentation_only(flask_smorest.Blueprint.doc(**kwargs))

    def alt_response(self, *args, **kwargs):
        return _documentation_only(super().alt_response(*args, **kwargs))
