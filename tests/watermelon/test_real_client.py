"""WatermelonDB's own `synchronize()` against a real Bazres process (DESIGN §5.8).

Node 20 runs `@nozbe/watermelondb` 0.28.0 from npm on its LokiJS adapter, headless
(examples/watermelon/scenarios.mjs), against the `live` server of this leg's database:
`flask run` on SpatiaLite, gunicorn on PostGIS. Each scenario of issue 16 runs twice: a
plain client, and one that synchronizes with `sendCreatedAsUpdated: true`. A scenario
fails on any check of its own and on anything WatermelonDB logs as an error (a record sent
as `created` that the phone holds, an `updated` one it lacks).
"""

import json
import os
import shutil
import subprocess

import jdatetime
import pytest

from tests.app.phone import mandate_all_day, tehran_today
from tests.live import PASSWORD, ROOT

EXAMPLE = ROOT / "examples" / "watermelon"
SCENARIOS = ["first_sync", "three_reports", "lost_answer", "two_clients_merge", "failed_push", "locked_amendment",
             "refused_record", "deletes"]
INSPECTOR, DISTRICT, FOREIGN_DISTRICT = "inspector-6a", 6, 3


@pytest.fixture(scope="session")
def setup(live) -> dict:
    """Every office must be open all day (a closure is flagged whatever the hour), today's
    round of the district planned, and an office of another district to be refused."""
    if shutil.which("node") is None or not (EXAMPLE / "node_modules" / "@nozbe" / "watermelondb").is_dir():
        pytest.fail("Node 20 and `make watermelon` (npm ci in examples/watermelon) are needed")
    mandate_all_day(live)
    day = jdatetime.date.fromgregorian(date=tehran_today().date())
    rounds = live.request("POST", "/api/v1/rounds", {"date": f"{day.year:04d}-{day.month:02d}-{day.day:02d}",
                                                     "district": DISTRICT, "inspectors": [INSPECTOR],
                                                     "replace": True}, user=f"head-{DISTRICT}")
    assert rounds.status == 201, rounds.body
    foreign = live.request("GET", f"/api/v1/offices?district={FOREIGN_DISTRICT}&page_size=1", user="committee1")
    assert foreign.status == 200, foreign.body
    return {"url": live.url, "inspector": INSPECTOR, "district": DISTRICT,
            "foreign_office": foreign.json()[0]["id"], "round": rounds.json()["rounds"][0]["id"]}


@pytest.mark.parametrize("created_as_updated", [False, True], ids=["plain", "sendCreatedAsUpdated"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_watermelondb_client(setup, scenario, created_as_updated):
    env = os.environ | {"BAZRES_URL": setup["url"], "BAZRES_PASSWORD": PASSWORD, "BAZRES_SETUP": json.dumps(setup)}
    command = ["node", "scenarios.mjs", scenario] + (["--created-as-updated"] if created_as_updated else [])
    run = subprocess.run(command, cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}"
    assert run.stdout.splitlines()[-1].startswith(f"ok {scenario}"), run.stdout
