"""The city's slow-changing records (districts, hours rules, holidays, offices) are written
once per feed entry and kept (app/services/written_records.py): every phone's first pull
gets the same records as a fresh read would write, and a record changed is pulled changed,
by a phone that pulls from scratch as by one that follows the feed."""

import uuid

from app.services.written_records import WRITTEN

DEVICE = str(uuid.uuid4())


def pull_all(client, user, cursor=None) -> tuple[dict, str]:
    records: dict[str, dict] = {}
    while True:
        answer = client.as_(user).post("/api/v1/sync/pull", json={"protocol": 1, "device_id": DEVICE, "cursor": cursor,
                                                                          "limit": 200})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        page = answer.get_json()
        for entity, change in page["changes"].items():
            for record in change["upserted"]:
                records.setdefault(entity, {})[str(record.get("id", record.get("number")))] = record
        cursor = page["cursor"]
        if not page["has_more"]:
            return records, cursor


def test_a_second_phone_gets_the_kept_records_equal_to_the_first_phones(client):
    first, _ = pull_all(client, "inspector-6a")
    kept = len(WRITTEN._records)
    second, _ = pull_all(client, "inspector-6b")
    assert kept > 90  # the district's offices, the city's rules and holidays, the district
    assert len(WRITTEN._records) == kept  # the second phone's were all kept ones
    for entity in ("offices", "districts", "hours_rules", "holidays"):
        assert second[entity] == first[entity]
    # Kept for every district, each sees its own offices only.
    other, _ = pull_all(client, "inspector-7a")
    assert not set(other["offices"]) & set(first["offices"])
    assert {o["district"] for o in other["offices"].values()} == {7}


def test_a_rule_changed_is_pulled_changed_from_scratch_and_from_the_feed(client):
    rule = client.as_("admin").post("/api/v1/hours-rules", json={
        "name": "d6 Saturday", "scope": "district:6", "date_from": "1405-02-05", "date_to": "1405-02-05",
        "kind": "open", "windows": [{"start": "09:00", "end": "13:00"}]}).get_json()
    before, cursor = pull_all(client, "inspector-6a")
    assert before["hours_rules"][rule["id"]]["windows"] == [{"start": "09:00", "end": "13:00"}]

    changed = client.as_("admin").request("PATCH", f"/api/v1/hours-rules/{rule['id']}", json={
        "version": 1, "windows": [{"start": "09:00", "end": "15:00"}]})
    assert changed.status_code == 200
    following, _ = pull_all(client, "inspector-6a", cursor)
    from_scratch, _ = pull_all(client, "inspector-6b")
    for records in (following, from_scratch):
        assert records["hours_rules"][rule["id"]]["windows"] == [{"start": "09:00", "end": "15:00"}]
        assert records["hours_rules"][rule["id"]]["version"] == 2
