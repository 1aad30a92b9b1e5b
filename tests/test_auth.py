"""Logging in and out: hashed passwords, random stored-hashed tokens, devices, revocation."""

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from werkzeug.security import generate_password_hash

from app import passwords
from app.database import utcnow
from app.extensions import db
from app.models import ApiToken, Device, User
from tests.conftest import DEMO_PASSWORD
from tests.support import assert_problem


# OWASP's Argon2id setting of 19 MiB, 2 passes and one lane (app.passwords).
CURRENT_SETTING = "$argon2id$v=19$m=19456,t=2,p=1$"


def login(client, username, password=DEMO_PASSWORD, **extra):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password, **extra})


def test_login_returns_a_token_with_expiry_and_the_user(client):
    response = login(client, "inspector-3b")
    assert response.status_code == 201
    body = response.get_json()
    assert len(body["token"]) >= 40
    assert body["expires_at"].endswith("+03:30")  # Tehran time on the wire (no DST since 2022)
    assert body["user"]["username"] == "inspector-3b"
    assert body["user"]["role"] == "inspector"
    assert body["user"]["districts"] == [3]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.get_json()["username"] == "inspector-3b"


def test_tokens_and_passwords_are_stored_hashed(client, app_context):
    token = login(client, "head-9").get_json()["token"]
    user = db.session.scalar(sa.select(User).where(User.username == "head-9"))
    assert DEMO_PASSWORD not in user.password_hash and user.password_hash.startswith("$argon2id$")
    stored = db.session.scalars(sa.select(ApiToken.token_hash).where(ApiToken.user_id == user.id)).all()
    assert token not in stored and len(stored) >= 1


@pytest.mark.parametrize(("make_hash", "stored_prefix"), [
    (lambda password: generate_password_hash(password, method="scrypt"), "scrypt:"),
    # OWASP's 7 MiB and 5 passes: measured and not kept (app.passwords)
    (lambda password: PasswordHasher(time_cost=5, memory_cost=7 * 1024, parallelism=1).hash(password),
     "$argon2id$v=19$m=7168,t=5,p=1$"),
], ids=["werkzeug-scrypt", "argon2id-7MiB-5-passes"])
def test_a_hash_of_an_older_scheme_or_setting_still_logs_in_and_is_replaced(client, app_context, make_hash,
                                                                           stored_prefix):
    """Hashes of an older scheme (werkzeug's) or of another Argon2id setting verify as they are
    and are made again at today's setting by the next successful login; a failed login
    changes nothing, and a wrong password still fails after."""
    user = db.session.scalar(sa.select(User).where(User.username == "head-9"))
    user.password_hash = make_hash(DEMO_PASSWORD)
    db.session.commit()
    assert login(client, "head-9", "wrong password").status_code == 401
    db.session.expire_all()
    assert user.password_hash.startswith(stored_prefix)

    assert login(client, "head-9").status_code == 201
    db.session.expire_all()
    assert user.password_hash.startswith(CURRENT_SETTING)
    assert login(client, "head-9").status_code == 201
    assert login(client, "head-9", "wrong password").status_code == 401


def test_the_password_is_checked_with_no_transaction_or_connection_held(client, monkeypatch):
    """Argon2id's check takes tens of milliseconds of CPU: a login holds nothing of the
    database's meanwhile (no transaction, no pooled connection), for a right password, a
    wrong one and an unknown user alike."""
    held = []
    verify = passwords.verify
    pool = db.engine.pool
    checked_out = pool.checkedout  # (the tests' own fixtures may hold one: counted before)

    def checking(stored, password):
        held.append((db.session().in_transaction(), checked_out()))
        return verify(stored, password)

    before = checked_out()

    monkeypatch.setattr(passwords, "verify", checking)
    assert login(client, "inspector-6a").status_code == 201
    assert login(client, "inspector-6a", "wrong password").status_code == 401
    assert login(client, "nobody-at-all").status_code == 401
    assert held == [(False, before)] * 3


def test_wrong_password_and_unknown_user_get_the_same_401(client):
    wrong = assert_problem(login(client, "head-9", "not-the-password"), 401)
    unknown = assert_problem(login(client, "nobody-at-all", "not-the-password"), 401)
    assert wrong["detail"] == unknown["detail"]


def test_login_records_the_device(client, app_context):
    device_id = uuid.uuid4()
    assert login(client, "inspector-4a", device_id=str(device_id)).status_code == 201
    device = db.session.get(Device, device_id)
    assert device is not None
    assert device.user_id == db.session.scalar(sa.select(User.id).where(User.username == "inspector-4a"))


def test_a_phone_handed_to_another_inspector_follows_its_new_holder(client, app_context):
    device_id = uuid.uuid4()
    first = client.post("/api/v1/auth/token", headers={"User-Agent": "phone/1"}, json={
        "username": "inspector-4a", "password": DEMO_PASSWORD, "device_id": str(device_id)})
    assert first.status_code == 201
    seen_first = db.session.get(Device, device_id).first_seen_at
    db.session.expire_all()
    second = client.post("/api/v1/auth/token", headers={"User-Agent": "phone/2"}, json={
        "username": "inspector-5b", "password": DEMO_PASSWORD, "device_id": str(device_id)})
    assert second.status_code == 201 and second.get_json()["user"]["districts"] == [5]
    device = db.session.get(Device, device_id)
    holder = db.session.scalar(sa.select(User.id).where(User.username == "inspector-5b"))
    assert (device.user_id, device.user_agent, device.first_seen_at) == (holder, "phone/2", seen_first)
    assert device.last_seen_at >= seen_first
    tokens = db.session.scalars(sa.select(ApiToken).where(ApiToken.device_id == device_id)).all()
    assert sorted(token.user_id for token in tokens) == sorted(
        db.session.scalars(sa.select(User.id).where(User.username.in_(["inspector-4a", "inspector-5b"])))), \
        "each login's token names the phone"


def test_a_bad_device_id_is_named(client):
    assert_problem(login(client, "inspector-4a", device_id="not-a-uuid"), 422, "device_id")


def test_logout_revokes_only_that_token(client):
    first = login(client, "inspector-8a").get_json()["token"]
    second = login(client, "inspector-8a").get_json()["token"]
    bearer = lambda t: {"Authorization": f"Bearer {t}"}  # noqa: E731
    assert client.delete("/api/v1/auth/token", headers=bearer(first)).status_code == 204
    assert_problem(client.get("/api/v1/auth/me", headers=bearer(first)), 401)
    assert client.get("/api/v1/auth/me", headers=bearer(second)).status_code == 200


def test_expired_token_is_refused(client, app_context):
    token = login(client, "inspector-8b").get_json()["token"]
    db.session.execute(sa.update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    body = assert_problem(response, 401)
    assert "expired" in body["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_deactivated_user_cannot_log_in_or_use_old_tokens(client, app_context):
    token = login(client, "inspector-9a").get_json()["token"]
    db.session.execute(sa.update(User).where(User.username == "inspector-9a").values(active=False))
    db.session.commit()
    assert_problem(client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}), 401)
    assert_problem(login(client, "inspector-9a"), 401)


def test_missing_or_malformed_authorization_is_401(client):
    assert_problem(client.get("/api/v1/districts"), 401)
    assert_problem(client.get("/api/v1/districts", headers={"Authorization": "Basic abc"}), 401)
    assert_problem(client.get("/api/v1/districts", headers={"Authorization": "Bearer nope"}), 401)
