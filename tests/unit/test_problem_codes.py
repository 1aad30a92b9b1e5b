"""The problem catalogue (app/errors.py) is the one place codes are defined; every code the
code raises is in it, once; a published code is never removed or moved to another status."""

import ast
import re
from pathlib import Path

from app.errors import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "sync", "geo", "schemas")

# Every code ever published, with its status: append new ones, never delete or change a line.
PUBLISHED = {
    "bad-request": 400, "malformed-json": 400, "unauthenticated": 401, "invalid-credentials": 401,
    "forbidden": 403, "not-found": 404, "method-not-allowed": 405, "not-acceptable": 406, "conflict": 409,
    "length-required": 411, "payload-too-large": 413, "unsupported-media-type": 415, "not-an-image": 415,
    "validation-failed": 422, "too-many-requests": 429, "internal-error": 500, "unavailable": 503,
    # Issue 15: one code per situation a client must tell apart.
    "out-of-scope": 403, "stale-version": 409, "round-exists": 409, "inspector-busy": 409, "rule-withdrawn": 409,
    "correction-decided": 409, "case-transition-forbidden": 409, "upload-offset-mismatch": 409,
    "upload-length-mismatch": 409, "photo-too-large": 413, "photo-hash-mismatch": 400,
    "too-many-open-uploads": 429,
    # Issue 17: an activity batch sent again with other events.
    "batch-mismatch": 409,
    # Issue 18: a request shed past capacity.
    "overloaded": 503,
}
# Where a code is named as a string: Problem(code, …), problem_response(code, …),
# answered_as(description, *codes), and the WSGI middleware's problem(environ, start_response, code, …).
CODE_ARGUMENTS = {"Problem": slice(0, 1), "problem_response": slice(0, 1), "answered_as": slice(1, None),
                  "problem": slice(2, 3)}


def _modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def codes_used() -> dict[str, set[str]]:
    """Each code named in a call, with the files that name it."""
    used: dict[str, set[str]] = {}
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _called(node) in CODE_ARGUMENTS:
                for arg in node.args[CODE_ARGUMENTS[_called(node)]]:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        used.setdefault(arg.value, set()).add(str(path.relative_to(ROOT)))
    return used


def test_every_code_the_code_names_is_in_the_catalogue():
    used = codes_used()
    assert {"stale-version", "upload-offset-mismatch", "out-of-scope"} <= set(used)  # the walk finds them
    assert {code: sorted(files) for code, files in used.items() if code not in CATALOGUE} == {}


def test_no_service_answers_the_generic_conflict():
    assert "conflict" not in codes_used()


def test_the_catalogue_is_the_one_place_codes_are_defined_each_once():
    defined = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _called(node) == "ProblemType":
                assert path == ROOT / "app" / "errors.py", f"{path} defines a problem type"
                defined.append(node.args[0].value)
    assert len(defined) == len(set(defined)) == len(CATALOGUE), sorted(defined)


def test_a_published_code_is_never_removed_or_moved_to_another_status():
    assert {code: CATALOGUE[code].status if code in CATALOGUE else None for code in PUBLISHED} == PUBLISHED
    assert set(CATALOGUE) <= set(PUBLISHED), "a new code: add it to PUBLISHED"


def test_every_code_has_a_kebab_case_name_a_title_and_a_doc():
    for ptype in CATALOGUE.values():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", ptype.code) and ptype.title and len(ptype.doc) > 40, ptype


def test_the_pages_and_the_app_translate_only_codes_that_exist():
    files = ["app/static/js/common.js", "app/static/js/committee.js", "app/static/app/js/screens.js"]
    for name in files:
        text = (ROOT / name).read_text(encoding="utf-8")
        for block in re.findall(r"(?:PROBLEMS|STALE) = \{(.*?)\n\};", text, re.S):
            keys = re.findall(r'^\s*"?([a-z-]+)"?:', block, re.M)
            assert keys and set(keys) <= set(CATALOGUE), (name, sorted(set(keys) - set(CATALOGUE)))
