"""The code map holds: every query is built in app/repositories/, and the layers are kept.

CONTRIBUTING.md says where each thing lives; these tests fail when a change puts a query
anywhere else, or when `lint-imports` (the contracts in pyproject.toml) finds an import
that goes up a layer, out of a pure package, or round a cycle.
"""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "sync", "geo", "schemas")
# What builds a query or reaches the session's data (transactions are a service's own:
# commit, rollback and savepoints are not in the list).
QUERY_BUILDERS = {"select", "text", "insert", "update", "delete", "union", "exists"}
SESSION_DATA = {"execute", "scalars", "scalar", "get", "add", "add_all", "delete", "flush", "merge", "refresh",
                "query", "get_bind"}
# The places outside app/repositories/ that may, and why.
ALLOWED = {
    "app/ratelimit.py": "the login limiter's own counter store, a flask-limiter storage, not an aggregate",
    "app/models": "table definitions: a server default is SQL text",
    "app/services/__init__.py": "the unit of work itself, and ending a read-only transaction",
}


def _receiver(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call):
        parts.append(_receiver(node.func) + "()")
    return ".".join(reversed(parts))


def queries_in(source: str) -> list[tuple[int, str]]:
    """(line, what) for each query built or session data reached in a module's source."""
    tree = ast.parse(source)
    from_sqlalchemy = {alias.asname or alias.name for node in ast.walk(tree)
                       if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
                       for alias in node.names}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "session" and _receiver(node.value) == "db":
            found.append((node.lineno, "db.session"))
        if isinstance(node, ast.Attribute) and node.attr == "query":
            found.append((node.lineno, ".query"))  # Session.query(...), Model.query.filter_by(...)
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            receiver = _receiver(func.value)
            if func.attr in QUERY_BUILDERS and receiver in ("sa", "sqlalchemy", "db"):
                found.append((node.lineno, f"{receiver}.{func.attr}("))
            elif func.attr in QUERY_BUILDERS and receiver.endswith("__table__"):
                found.append((node.lineno, f"__table__.{func.attr}("))
            elif func.attr in SESSION_DATA and receiver.endswith(("session", "session()")):
                found.append((node.lineno, f"{receiver}.{func.attr}("))
        elif isinstance(func, ast.Name) and func.id in from_sqlalchemy and func.id in QUERY_BUILDERS:
            found.append((node.lineno, f"{func.id}("))
    return found


def _allowed(path: str) -> bool:
    return path.startswith("app/repositories/") or any(path == a or path.startswith(a + "/") for a in ALLOWED)


def test_no_query_is_built_outside_the_repositories():
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if not _allowed(relative):
                offenders += [f"{relative}:{line}: {what}" for line, what in queries_in(path.read_text())]
    assert not offenders, "queries outside app/repositories/ (move them to the aggregate's repository):\n" + \
        "\n".join(offenders)


@pytest.mark.parametrize("source, found", [
    ("rows = db.session.scalars(sa.select(Office))", {"db.session", "db.session.scalars(", "sa.select("}),
    ("rows = db.select(Office)", {"db.select("}),
    ("statement = Change.__table__.insert()", {"__table__.insert("}),
    ("from sqlalchemy import select\nq = select(Office)", {"select("}),
    ("session.execute(sa.text('SELECT 1'))", {"session.execute(", "sa.text("}),
    ("Office.query.filter_by(code='x')", {".query"}),
    ("session.query(User)", {".query", "session.query("}),
    ("savepoint = session.begin_nested()\nsavepoint.commit()", set()),
])
def test_the_check_finds_the_ways_a_query_is_built(source, found):
    assert {what for _, what in queries_in(source)} == found


def test_every_allowed_place_still_needs_it():
    for allowed in ALLOWED:
        path = ROOT / allowed
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        assert any(queries_in(f.read_text()) for f in files), f"{allowed} builds no query now: drop it from ALLOWED"


def test_the_import_contracts_are_kept():
    linter = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert linter, "import-linter is a test dependency (pyproject.toml): pip install -e '.[test]'"
    run = subprocess.run([linter, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "NO_COLOR": "1"})
    assert run.returncode == 0, run.stdout + run.stderr
