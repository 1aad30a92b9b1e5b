"""A WatermelonDB phone whose inspector is moved to another district: its next pull brings the
whole new scope, the new places as `created`, and names the old district's places as
`deleted` (WatermelonDB has no `reset`), and its own reports stay (DESIGN §5.1, §5.8)."""

import sqlalchemy as sa

from app.extensions import db
from app.models import User, UserDistrict

PULL = "/api/v1/sync/watermelon"


def test_a_reassigned_inspector_drops_the_old_district_and_gets_the_new_one(client, app_context):
    phone = client.as_("inspector-6b")
    first = phone.get(f"{PULL}?last_pulled_at=null").get_json()
    old_offices = {o["id"] for o in first["changes"]["offices"]["created"]}
    assert old_offices and {o["district"] for o in first["changes"]["offices"]["created"]} == {6}

    user = db.session.scalar(sa.select(User).where(User.username == "inspector-6b"))
    db.session.execute(sa.update(UserDistrict).where(UserDistrict.user_id == user.id).values(district=8))
    db.session.commit()

    answer = phone.get(f"{PULL}?last_pulled_at={first['timestamp']}").get_json()
    moved = answer["changes"]
    assert {o["district"] for o in moved["offices"]["created"]} == {8}
    assert moved["offices"]["updated"] == []  # the phone holds none of district 8's
    assert old_offices <= set(moved["offices"]["deleted"])
    assert "6" in moved["districts"]["deleted"] and [d["id"] for d in moved["districts"]["created"]] == ["8"]
    assert moved["hours_rules"]["created"] == []  # the rules are citywide: the phone holds them
    assert len(moved["hours_rules"]["updated"]) == len(first["changes"]["hours_rules"]["created"])

    # From the position after the move, nothing more to say.
    after = phone.get(f"{PULL}?last_pulled_at={answer['timestamp']}").get_json()["changes"]
    assert all(not any(sets.values()) for sets in after.values()), after
