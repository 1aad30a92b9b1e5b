"""The example app's `appSchema` (examples/watermelon/schema.js) holds every column the server
sends, of the right type, and the README's copy is that schema: an app team can paste either."""

import json
import re
import subprocess
import time
import uuid

import pytest

from tests.live import ROOT
from tests.sync.helpers import first_office

EXAMPLE = ROOT / "examples" / "watermelon"
PHONE_ONLY = {"reports": {"created_at", "updated_at"}}  # WatermelonDB's own timestamps
JSON_TYPES = {"string": (str,), "number": (int, float), "boolean": (bool,)}


def _node(script: str) -> str:
    return subprocess.run(["node", "-e", script], cwd=EXAMPLE, capture_output=True, text=True, check=True,
                          timeout=60).stdout


@pytest.fixture(scope="module")
def tables() -> dict:
    """Each table's columns as schema.js declares them: {table: {column: (type, optional)}}."""
    raw = json.loads(_node("console.log(JSON.stringify(require('./schema').schema.tables))"))
    return {name: {c["name"]: (c["type"], bool(c.get("isOptional"))) for c in table["columnArray"]}
            for name, table in raw.items()}


def test_the_readme_shows_the_example_schema():
    printed = subprocess.run(["node", "print_schema.js"], cwd=EXAMPLE, capture_output=True, text=True, check=True,
                             timeout=60).stdout.strip()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"```js\n(import \{ appSchema.*?)\n```", readme, re.S)
    assert shown is not None, "the README's appSchema block"
    assert shown.group(1).strip() == printed


def test_every_column_the_server_sends_is_in_the_schema_with_its_type(client, tables):
    phone = client.as_("inspector-6a")
    office = first_office(client)
    now = int(time.time() * 1000)
    report = {"id": str(uuid.uuid4()), "office_id": office["id"], "round_id": None, "observed_at": now - 60_000,
              "gps_fix_at": now - 61_000, "latitude": 35.7, "longitude": 51.4, "accuracy_m": 8.5,
              "office_state": "open", "staff_present": 3, "checklist": '{"sign_posted": true}', "notes": "ok",
              "photos": json.dumps([{"sha256": "a" * 64, "taken_at": now, "caption": "door"}]),
              "_status": "created", "_changed": "", "created_at": now, "updated_at": now}
    pushed = phone.post("/api/v1/sync/watermelon?last_pulled_at=1", json={"changes": {"reports": {"created": [report]}}})
    assert pushed.status_code == 200, pushed.get_data(as_text=True)
    assert pushed.get_json()["results"][0]["status"] == "applied", pushed.get_json()
    answer = phone.get("/api/v1/sync/watermelon?last_pulled_at=null").get_json()
    seen = set()
    for table, sets in answer["changes"].items():
        declared = tables[table]
        for raw in sets["created"] + sets["updated"]:
            assert set(raw) - {"id"} == set(declared) - PHONE_ONLY.get(table, set()), table
            for column, value in raw.items():
                if column == "id":
                    assert isinstance(value, str)
                    continue
                kind, optional = declared[column]
                assert (value is None and optional) or isinstance(value, JSON_TYPES[kind]), (table, column, value)
                assert not (kind == "number" and isinstance(value, bool)), (table, column)
            seen.add(table)
    assert seen >= {"offices", "districts", "hours_rules", "holidays", "reports"}
