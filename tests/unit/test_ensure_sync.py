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
