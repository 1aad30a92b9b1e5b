"""app.Bazres.ensure_sync: a plain function or bound method is returned as it is, without
Flask's five `inspect` calls; anything else goes to Flask's own (a coroutine function is
wrapped, or refused where Flask's async extra is not installed)."""

import functools

import pytest

from app import Bazres


class Hooks:
    def plain(self):
        return "plain"

    async def later(self):
        return "later"


def plain():
    return "plain"


async def later():
    return "later"


def _flask_says(func):
    try:
        return "wrapped" if Bazres.__mro__[1].ensure_sync(app, func) is not func else "as is"
    except RuntimeError:
        return "refused"


app = Bazres(__name__)


@pytest.mark.parametrize("func", [plain, Hooks().plain, functools.partial(plain), later, Hooks().later,
                                  functools.partial(later), print, Hooks()], ids=repr)
def test_the_answer_is_flasks(func):
    try:
        ours = "wrapped" if app.ensure_sync(func) is not func else "as is"
    except RuntimeError:
        ours = "refused"
    assert ours == _flask_says(func)


def test_a_plain_function_comes_back_itself():
    assert app.ensure_sync(plain) is plain
    bound = Hooks().plain
    assert app.ensure_sync(bound) is bound


def test_a_plain_function_is_answered_without_inspect(monkeypatch):
    import flask.app

    asked = []
    monkeypatch.setattr(flask.app, "iscoroutinefunction", lambda func: asked.append(func) or False)
    app.ensure_sync(plain)
    app.ensure_sync(Hooks().plain)
    assert asked == []
    app.ensure_sync(functools.partial(plain))
    assert len(asked) == 1


@pytest.mark.skipif(not hasattr(__import__("inspect"), "markcoroutinefunction"), reason="Python 3.12+")
def test_a_function_marked_a_coroutine_goes_to_flask():
    import inspect

    def marked():
        return later()

    inspect.markcoroutinefunction(marked)
    assert _flask_says(marked) != "as is"
    try:
        ours = "wrapped" if app.ensure_sync(marked) is not marked else "as is"
    except RuntimeError:
        ours = "refused"
    assert ours == _flask_says(marked)
