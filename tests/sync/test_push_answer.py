"""The push answer on the wire is what PushResponseSchema makes of the service's answer, byte
for byte, whatever happened to the ops (the view writes it by hand, once)."""

import pytest
from flask import jsonify

from app.services import sync_push
from schemas.sync import PushResponseSchema
from tests.sync.helpers import envelope, first_office, op, report_data

PUSH = "/api/v1/sync/push"


@pytest.fixture
def answers(monkeypatch):
    """The service's answers to the pushes of a test, as the view got them."""
    seen = []

    def recording(user, body, arrived_at=None):
        seen.append(sync_push_push(user, body, arrived_at))
        return seen[-1]

    sync_push_push = sync_push.push
    monkeypatch.setattr(sync_push, "push", recording)
    return seen


def test_every_kind_of_result_is_sent_as_the_schema_dumps_it(client, app, answers):
    office = first_office(client)
    inspector = client.as_("inspector-6a")
    create = op(data=report_data(office, photos=[{"sha256": "ab" * 32, "caption": "door"}], checklist={"sign": None}))
    pushes = [
        [create, op(data=report_data(office, state="ajar")), "not an op",
         op("create", "office_corrections", data={"office_id": office["id"], "kind": "phone", "phone": "021 555"})],
        [op("update", id_=create["id"], base_version=1, data={"notes": "first", "staff_present": 2})],
        [op("update", id_=create["id"], base_version=1, data={"notes": "second", "staff_present": 3}),
         op("delete", id_=create["id"], base_version=1), create],
        [op("delete", id_=create["id"], base_version=3)],
    ]
    for ops in pushes:
        response = inspector.post(PUSH, json=envelope(ops))
        assert response.status_code == 200
        with app.test_request_context():
            assert response.get_data() == jsonify(PushResponseSchema().dump(answers[-1])).get_data()
    statuses = [r["status"] for a in answers for r in a["results"]]
    assert {"applied", "merged", "duplicate", "rejected"} <= set(statuses)
