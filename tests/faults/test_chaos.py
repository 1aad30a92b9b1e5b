"""Faults under load, at CI scale (bench/chaos.py): gunicorn killed whole mid-push, PostgreSQL
restarted mid-push (fast, then immediate), phones syncing again after each failure; then
every acknowledged op is stored, each once, with no half-written report and no photo counted
as stored without its whole file.

These start a real server (scripts/serve.sh, gunicorn) on a private throw-away PostgreSQL
cluster of their own (initdb into a temporary directory, another port; as root its commands
run as the `postgres` user), so they run once, in the PostGIS leg, and commit for real
(marked `concurrency`; the cluster is thrown away after).
"""

import pytest

from bench import chaos
from tests.conftest import LEG

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.skipif(LEG != "postgis", reason="chaos runs gunicorn on a private PostgreSQL + PostGIS cluster: "
                                                "once, in the PostGIS leg"),
]


PHONES, REPORTS = 4, 6


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    # One gunicorn worker: it boots fastest, and a kill still takes master and worker.
    ran = chaos.run(phones=PHONES, reports=REPORTS, rounds=3, kills=1, restarts=("fast", "immediate"), workers=1,
                    workdir=tmp_path_factory.mktemp("chaos"), log=lambda line: None)
    return {r.scenario: r for r in ran}


def assert_nothing_lost_or_doubled(result: chaos.ScenarioResult, faults: int) -> None:
    assert len(result.faults) == faults
    assert any(f.pushes_in_flight for f in result.faults), "no fault struck a push in flight"
    assert result.failed_requests, "the faults cost the phones nothing: they did not strike"
    assert result.answers_lost and result.answers.get("duplicate", 0) >= result.answers_lost, result.answers
    assert not result.phone_errors, result.phone_errors
    findings = result.findings
    assert findings.ok, findings.problems
    assert findings.reports_found == findings.reports_expected == PHONES * REPORTS
    assert findings.photos_stored == findings.photos_expected == PHONES * REPORTS


def test_a_server_killed_mid_push_loses_and_doubles_nothing(results):
    assert_nothing_lost_or_doubled(results["kill-server"], faults=1)


def test_a_database_restarted_mid_push_loses_and_doubles_nothing(results):
    assert_nothing_lost_or_doubled(results["restart-database"], faults=2)
