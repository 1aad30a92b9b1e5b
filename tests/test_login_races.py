"""A login whose user changes while the password is checked (Argon2id: tens of milliseconds,
with nothing of the database's held): a deactivation, deletion or new password committed
meanwhile (by another process, or an operator in the database) wins, and the login gets the
401 of a wrong password, no token and no phone; an old scheme's hash is replaced only while
it is still the user's."""

import threading
import time
import uuid

import psycopg
import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from app import passwords
from app.extensions import db
from app.models import ApiToken, Device, Role, User
from app.services.accounts import create_user
from tests.conftest import DEMO_PASSWORD, LEG
from tests.support import assert_problem
from tests.test_auth import login


def _while(monkeypatch, step, change):
    """`change` (a statement on the users table) committed as the login takes `step` (a
    function of `app.passwords`): here on the login's own connection (the tests' rolled-back
    transaction), so this proves what the writes check; a change from another connection,
    racing the writes themselves, is
    `test_a_deactivation_under_way_as_the_token_is_written_is_waited_for` (PostgreSQL)."""
    original = getattr(passwords, step)

    def changed_first(*args):
        db.session.execute(change)
        db.session.commit()
        return original(*args)

    monkeypatch.setattr(passwords, step, changed_first)


def _while_the_password_is_checked(monkeypatch, change):
    _while(monkeypatch, "verify", change)


def _tokens_and_devices(username):
    user_id = db.session.scalar(sa.select(User.id).where(User.username == username))
    tokens = db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken).where(ApiToken.user_id == user_id))
    devices = db.session.scalar(sa.select(sa.func.count()).select_from(Device).where(Device.user_id == user_id))
    return tokens, devices


@pytest.mark.parametrize("with_device", [False, True])
def test_a_user_deactivated_while_the_password_is_checked_gets_no_token(client, app_context, monkeypatch,
                                                                       with_device):
    """A deactivation committed during the check wins: 401, no token, no phone."""
    before = _tokens_and_devices("inspector-9b")
    _while_the_password_is_checked(monkeypatch, sa.update(User).where(User.username == "inspector-9b")
                                   .values(active=False))
    device = {"device_id": str(uuid.uuid4())} if with_device else {}
    assert_problem(login(client, "inspector-9b", **device), 401)
    db.session.expire_all()
    assert _tokens_and_devices("inspector-9b") == before


@pytest.mark.parametrize("with_device", [False, True])
def test_a_user_deleted_while_the_password_is_checked_gets_a_401_not_a_500(client, app_context, monkeypatch,
                                                                          with_device):
    create_user("leaving-inspector", DEMO_PASSWORD, Role.INSPECTOR, [7])
    _while_the_password_is_checked(monkeypatch, sa.delete(User).where(User.username == "leaving-inspector"))
    device_id = uuid.uuid4()
    device = {"device_id": str(device_id)} if with_device else {}
    body = assert_problem(login(client, "leaving-inspector", **device), 401)
    assert body["detail"] == "Wrong username or password."
    db.session.expire_all()
    assert db.session.get(Device, device_id) is None


def test_a_password_changed_while_the_old_one_is_checked_is_kept(client, app_context, monkeypatch):
    """A new password committed while the old one (an old scheme's hash) is checked wins: the
    old password does not log in (401 at the token's write, before any replacement of the
    hash), and the new one does."""
    old = generate_password_hash(DEMO_PASSWORD, method="scrypt")
    admins = passwords.hash_password("the admin's new password")
    db.session.execute(sa.update(User).where(User.username == "head-9").values(password_hash=old))
    db.session.commit()
    before = _tokens_and_devices("head-9")
    _while_the_password_is_checked(monkeypatch, sa.update(User).where(User.username == "head-9")
                                   .values(password_hash=admins))
    assert_problem(login(client, "head-9"), 401)
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.password_hash).where(User.username == "head-9")) == admins
    assert _tokens_and_devices("head-9") == before
    monkeypatch.undo()
    assert login(client, "head-9", "the admin's new password").status_code == 201


def test_a_password_changed_while_the_old_hash_is_replaced_is_kept(client, app_context, monkeypatch):
    """The old scheme's hash is replaced after the token is committed, in a transaction of its
    own: a new password committed while the replacement is hashed is kept (the login, whose
    check came first, has its token)."""
    old = generate_password_hash(DEMO_PASSWORD, method="scrypt")
    admins = passwords.hash_password("the admin's new password")
    db.session.execute(sa.update(User).where(User.username == "head-9").values(password_hash=old))
    db.session.commit()
    _while(monkeypatch, "hash_password", sa.update(User).where(User.username == "head-9")
           .values(password_hash=admins))
    assert login(client, "head-9").status_code == 201
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.password_hash).where(User.username == "head-9")) == admins


@pytest.mark.concurrency
@pytest.mark.skipif(LEG != "postgis", reason="SQLite's writes hold the whole database's write lock")
@pytest.mark.parametrize("with_device", [False, True])
def test_a_deactivation_under_way_as_the_token_is_written_is_waited_for(app, database_url, with_device):
    """On PostgreSQL the token's write reads the user's row FOR SHARE: a deactivation not yet
    committed when the login writes is waited for, and wins (a plain read of the row would
    see it still active, and write the token)."""
    from bench.harness import libpq

    device_id = uuid.uuid4()
    device = {"device_id": str(device_id)} if with_device else {}
    answers = []
    try:
        with app.app_context():
            create_user("inspector-racing", DEMO_PASSWORD, Role.INSPECTOR, [7])
        with psycopg.connect(libpq(database_url)) as admin:
            admin.execute("UPDATE users SET active = false WHERE username = 'inspector-racing'")
            racing = threading.Thread(target=lambda: answers.append(
                login(app.test_client(), "inspector-racing", **device)), daemon=True)
            racing.start()
            with psycopg.connect(libpq(database_url), autocommit=True) as watcher:
                waiting = 0
                for _ in range(200):  # until the login waits for the admin's lock (it reads first, then checks)
                    (waiting,) = watcher.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND %s = ANY(pg_blocking_pids(pid))", (admin.info.backend_pid,)).fetchone()
                    if waiting or not racing.is_alive():
                        break
                    time.sleep(0.05)
            assert waiting == 1, "the login's write waited for the admin's change"
            admin.commit()
            racing.join(10)
        assert not racing.is_alive(), "the login answered once the change was committed"
        assert len(answers) == 1, "the login answered"
        assert_problem(answers[0], 401)
        with app.app_context():
            user_id = db.session.scalar(sa.select(User.id).where(User.username == "inspector-racing"))
            assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)
                                     .where(ApiToken.user_id == user_id)) == 0
            assert db.session.get(Device, device_id) is None
    finally:
        with app.app_context():
            db.session.execute(sa.delete(User).where(User.username == "inspector-racing"))
            db.session.commit()


@pytest.mark.concurrency
@pytest.mark.skipif(LEG != "postgis", reason="SQLite's writes hold the whole database's write lock: no two at once")
def test_two_logins_of_one_user_with_an_old_hash_at_once_both_get_a_token(app, monkeypatch):
    """Both logins hold the user's row FOR SHARE as they write their tokens, at the same time
    (a barrier after each write): the old scheme's hash is replaced after the commit, so
    neither waits for the other's UPDATE while holding its own lock (a deadlock: one of them
    503), and the hash is replaced once: the second replacement finds the old hash gone."""
    from app.repositories import users as users_repo

    both_written = threading.Barrier(2, timeout=10)
    add_token, set_password_hash = users_repo.add_token, users_repo.set_password_hash
    replaced = []

    def then_wait(*args):
        written = add_token(*args)
        both_written.wait()  # each holds the row FOR SHARE now, its transaction open
        return written

    def counted(user_id, old_hash, new_hash):
        set_password_hash(user_id, old_hash, new_hash)
        replaced.append(db.session.scalar(sa.select(User.password_hash).where(User.id == user_id)) == new_hash)

    monkeypatch.setattr(users_repo, "add_token", then_wait)
    monkeypatch.setattr(users_repo, "set_password_hash", counted)
    answers = []
    logins = [threading.Thread(target=lambda: answers.append(login(app.test_client(), "inspector-twice")),
                               daemon=True) for _ in range(2)]
    try:
        with app.app_context():
            create_user("inspector-twice", DEMO_PASSWORD, Role.INSPECTOR, [7])
            db.session.execute(sa.update(User).where(User.username == "inspector-twice")
                               .values(password_hash=generate_password_hash(DEMO_PASSWORD, method="scrypt")))
            db.session.commit()
        for thread in logins:
            thread.start()
        for thread in logins:
            thread.join(20)
        assert len(answers) == 2, "both logins answered"
        assert [answer.status_code for answer in answers] == [201, 201]
        assert sorted(replaced) == [False, True], "the hash replaced by one login, found gone by the other"
        with app.app_context():
            stored = db.session.scalar(sa.select(User.password_hash).where(User.username == "inspector-twice"))
        assert stored.startswith("$argon2id$") and passwords.verify(stored, DEMO_PASSWORD)
    finally:
        with app.app_context():
            db.session.execute(sa.delete(User).where(User.username == "inspector-twice"))
            db.session.commit()


def test_a_database_failing_the_old_hashs_replacement_still_logs_in(client, app_context, monkeypatch):
    """The token is committed before the old scheme's hash is replaced: a failure of that
    replacement leaves the old hash for the next login, and this login gets its token."""
    from sqlalchemy.exc import OperationalError

    from app.repositories import users as users_repo

    old = generate_password_hash(DEMO_PASSWORD, method="scrypt")
    db.session.execute(sa.update(User).where(User.username == "head-9").values(password_hash=old))
    db.session.commit()

    def failing(*_args):
        raise OperationalError("UPDATE users", {}, Exception("the server closed the connection"))

    monkeypatch.setattr(users_repo, "set_password_hash", failing)
    token = login(client, "head-9").get_json()["token"]
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.password_hash).where(User.username == "head-9")) == old
    monkeypatch.undo()
    assert login(client, "head-9").status_code == 201
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.password_hash).where(User.username == "head-9")).startswith("$argon2id$")
