"""New reports landed together (sync.push._FastCreates, app.repositories.bulk: COPY on
PostgreSQL, one executemany on SQLite), through the HTTP API: what they store is what the
push answered and a pull sends, and a bulk write that fails falls back to one op at a time."""

import time
import uuid
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Change, LedgerEntry, Report, ReportVersion
from app.services.report_form import dump_reports
from app.services.sync_store import SqlStore
from sync.canonical import canonical_of
from tests.sync.helpers import envelope, first_office, iso, now, op, push, report_data

PUSH, PULL = "/api/v1/sync/push", "/api/v1/sync/pull"
# Text that COPY's text format and JSON both escape: tab, newline, backslash, quotes, a
# control character, Persian, and an emoji beyond the BMP.
AWKWARD = 'tab\there\nline\r\nback\\slash "quoted" \\N \x01 بسته بود 🏢'


@pytest.fixture
def office(client):
    return first_office(client)


def _pulled(client, user="inspector-6a") -> dict:
    page = client.as_(user).post(PULL, json={"protocol": 1, "device_id": str(uuid.uuid4()), "cursor": None,
                                             "limit": 2000}).get_json()
    return {r["id"]: r for r in page["changes"]["reports"]["upserted"]}


def _varied_ops(office) -> list[dict]:
    lon, lat = office["location"]["coordinates"]
    photo = {"sha256": "cd" * 32, "taken_at": iso(now() - timedelta(minutes=3)), "caption": AWKWARD}
    return [
        op(data=report_data(office, state="closed", notes=AWKWARD, checklist={"sign": True, "door\\\t\"": None,
                                                                              "نور": False},
                            staff_present=0, photos=[photo], gps_fix_at=iso(now() - timedelta(minutes=2)))),
        op(data=report_data(office, location=None, accuracy_m=None, notes="")),
        # An awkward float in the location (repr round-trips; the database must not round it).
        op(data=report_data(office, location={"type": "Point", "coordinates": [lon + 1e-9, lat - 0.1 / 3]},
                            accuracy_m=0.1 + 0.2, staff_present=10_000)),
        op(data=report_data(office, checklist={}, photos=[])),
    ]


def test_reports_landed_together_store_and_pull_exactly_what_the_push_answered(client, office, app_context):
    ops = _varied_ops(office)
    response = client.as_("inspector-6a").post(PUSH, json=envelope(ops))
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["applied"] * len(ops)
    pulled = _pulled(client)
    db.session.expire_all()
    for sent, result in zip(ops, results):
        # The answer, the pull and the report written afresh from its columns are the same bytes.
        assert orjson.dumps(pulled[sent["id"]]) == orjson.dumps(result["record"])
        report = db.session.get(Report, uuid.UUID(sent["id"]))
        assert orjson.dumps(dump_reports([report])[0]) == orjson.dumps(result["record"])
        # The kept version and the ledger entry, as the one-by-one path writes them.
        kept = db.session.get(ReportVersion, (report.id, 1))
        assert kept.data == canonical_of(report) and str(kept.op_id) == sent["op_id"]
        entry = db.session.get(LedgerEntry, uuid.UUID(sent["op_id"]))
        assert (entry.status, entry.version, entry.entity_id) == ("applied", 1, report.id)
        assert entry.result == {k: result[k] for k in ("conflicts", "missing_attachments", "flags")}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Change)
                                 .where(Change.entity_id == sent["id"])) == 1
    assert results[0]["record"]["notes"] == AWKWARD and results[0]["record"]["photos"][0]["caption"] == AWKWARD
    assert results[0]["record"]["photos_pending"] == ["cd" * 32]
    assert results[1]["record"]["location"] is None
    assert results[2]["record"]["location"] == ops[2]["data"]["location"]
    # A replay of the whole push changes nothing and answers each op as it now is.
    replayed = push(client, ops)
    assert [r["status"] for r in replayed] == ["duplicate"] * len(ops)
    assert [orjson.dumps(r["record"]) for r in replayed] == [orjson.dumps(r["record"]) for r in results]


@pytest.mark.parametrize("collision", ["report", "op"])
def test_a_bulk_write_that_fails_falls_back_to_one_op_at_a_time_and_answers_every_op(
        client, office, app_context, monkeypatch, caplog, collision):
    """The lookups before the bulk insert can miss what another push landed meanwhile (here
    they are made to): the insert then fails on a unique key, in the reports' table or later
    in the ledger's, its savepoint is rolled back, and every op is applied alone."""
    (first,) = push(client, [earlier := op(data=report_data(office))])
    if collision == "report":
        monkeypatch.setattr(SqlStore, "existing_report_ids", lambda self, ids: set())
        again = op(id_=earlier["id"], data=report_data(office))  # a new op creating the same report
    else:
        monkeypatch.setattr(SqlStore, "landed_op_ids", lambda self, ids: set())
        again = op(op_id=earlier["op_id"], data=report_data(office))  # another report under a landed op_id
    fresh = [op(data=report_data(office, notes=AWKWARD)), op(data=report_data(office, location=None))]
    results = push(client, [fresh[0], again, fresh[1]])
    assert "bulk insert of 3 new reports failed" in caplog.text  # (the path under test was taken)
    if collision == "report":
        assert [r["status"] for r in results] == ["applied", "duplicate", "applied"]
        assert results[1]["id"] == earlier["id"] and results[1]["version"] == first["version"]
    else:
        assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
        assert "op_id" in results[1]["errors"]
        assert db.session.get(Report, uuid.UUID(again["id"])) is None
    pulled = _pulled(client)
    for sent, result in zip(fresh, [results[0], results[2]]):
        assert orjson.dumps(pulled[sent["id"]]) == orjson.dumps(result["record"])
    db.session.expire_all()
    # Nothing doubled and nothing lost: one report, version, feed row and ledger entry each.
    for sent in [*fresh, earlier]:
        report_id = uuid.UUID(sent["id"])
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportVersion)
                                 .where(ReportVersion.report_id == report_id)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Change)
                                 .where(Change.entity_id == sent["id"])) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry).where(
        LedgerEntry.entity_id.in_([uuid.UUID(s["id"]) for s in [*fresh, earlier]]))) == (4 if collision == "report"
                                                                                       else 3)


def test_a_push_answer_the_standard_library_writes_still_carries_the_stored_records(client, office):
    """An op id beyond 64 bits is echoed as sent, which orjson cannot write: the answer is
    written by the standard library, records stored as JSON included."""
    good = op(data=report_data(office, notes=AWKWARD))
    response = client.as_("inspector-6a").post(PUSH, json=envelope([good, {"op_id": 2**70, "entity": "reports"}]))
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert results[1]["op_id"] == 2**70 and results[1]["status"] == "rejected"
    assert results[0]["status"] == "applied"
    assert orjson.dumps(results[0]["record"]) == orjson.dumps(_pulled(client)[good["id"]])


def test_the_bulk_writer_stores_exactly_what_cores_insert_stores(client, office, app_context):
    """Rows written by app.repositories.bulk (COPY, or the driver's executemany) hold, column
    for column, what SQLAlchemy Core's INSERT of the same rows holds: JSON's null for None
    (not SQL NULL), 1, 1.0 and True told apart, awkward text, a point and no point, instants."""
    from app.models import SyncConflict, User
    from app.repositories import bulk
    from geo.geometry import point, to_db

    author = db.session.scalar(sa.select(User.id).where(User.username == "inspector-6a"))
    at = now()
    conflicts = [{"report_id": uuid.uuid4(), "op_id": uuid.uuid4(), "user_id": author, "field": AWKWARD,
                  "policy": "merge_text", "base": base, "server": server, "client": None, "resolved": [AWKWARD],
                  "at": at} for base, server in [(1, True), (1.0, 1), (True, None), (None, {"a": [1, 1.0]})]]
    office_id = uuid.UUID(office["id"])
    reports = [{"id": uuid.uuid4(), "author_id": author, "device_id": None, "office_id": office_id, "district": 6,
                "round_id": None, "observed_at": at, "gps_fix_at": at - timedelta(seconds=i), "location": location,
                "accuracy_m": 0.1 + 0.2, "office_state": "open", "staff_present": i, "checklist": {AWKWARD: i == 1},
                "notes": AWKWARD, "photos": [], "version": 1, "received_at": at, "updated_at": at,
                "evidence_time": at, "evidence_time_source": "device", "clock_skew_s": -1.5,
                "distance_to_office_m": None, "locked": False, "flags": [], "violation_id": None, "amendments": [],
                "field_times": {}, "deleted_at": None, "wire": AWKWARD, "wire_key": "k"}
               for i, location in enumerate([to_db(point(51.4, 35.7)), None, to_db(point(-0.1 / 3, 1e-9))])]
    for model, rows, key in [(SyncConflict, conflicts, "report_id"), (Report, reports, "id")]:
        table = model.__table__
        twins = [row | {key: uuid.uuid4()} for row in rows]
        bulk.insert_many(model, rows)
        db.session.execute(table.insert(), twins)
        as_text = [_as_text(c).label(c.key) for c in table.columns if c.key not in ("id", key)]
        for row, twin in zip(rows, twins):
            (stored,) = db.session.execute(sa.select(*as_text).where(table.c[key] == row[key])).all()
            (by_core,) = db.session.execute(sa.select(*as_text).where(table.c[key] == twin[key])).all()
            assert stored == by_core
    db.session.rollback()


def _as_text(column):
    """A column's stored value as text, to compare what two writers stored (a SpatiaLite
    geometry, a blob, as its hex)."""
    if db.session.get_bind().dialect.name == "sqlite" and column.key == "location":
        return sa.func.hex(column)
    return sa.cast(column, sa.Text)


def test_a_lookup_by_many_keys_matches_each_key_exactly_and_nothing_else(client, office, app_context):
    """bulk.one_of and any_of (on PostgreSQL one array literal, cast to the column's type)
    find a text with quotes, backslashes, braces, commas, spaces or the word NULL as itself,
    and a uuid or an integer as itself; a None or a key that is not there finds nothing."""
    from app.models import Office
    from app.repositories import bulk

    awkward = ['a"b', "c\\d", "{e,f}", " g ", "NULL", "", AWKWARD[:32], 'h\\"i']
    ids = list(db.session.scalars(sa.select(Office.id).order_by(Office.code).limit(len(awkward))))
    db.session.execute(sa.update(Office), [{"id": i, "code": code} for i, code in zip(ids, awkward)])
    found = db.session.execute(sa.select(Office.code, Office.id).where(bulk.one_of(Office.code, awkward + [None])))
    assert {code: office_id for code, office_id in found} == dict(zip(awkward, ids))
    for code in awkward:
        assert db.session.scalars(sa.select(Office.id).where(bulk.one_of(Office.code, [code, "nothing"]))).all() == \
            [ids[awkward.index(code)]]
    dialect = db.session.get_bind().dialect.name
    by_id = sa.select(Office.code).where(bulk.any_of(Office.id, "ids", dialect))
    assert set(db.session.scalars(by_id, {"ids": ids[:3] + [uuid.uuid4()]})) == set(awkward[:3])
    by_district = sa.select(sa.func.count()).select_from(Office).where(bulk.any_of(Office.district, "d", dialect))
    assert db.session.scalar(by_district, {"d": [6, 99]}) == db.session.scalar(
        sa.select(sa.func.count()).select_from(Office).where(Office.district == 6))
    db.session.rollback()


def test_a_lookup_by_many_keys_binds_its_array_with_the_array_type_not_a_cast_in_sql():
    # A cast in SQL of a text parameter (CAST(%(ids)s AS UUID[])) is worked out again for
    # every row of a plan that scans the table: psycopg prepares a statement run five times,
    # its generic plan was made while the table was small, and each push's lookups of its
    # op ids grew slower than the last (sync_bench: 260 ms, 600, 830, 1,260).
    from sqlalchemy.dialects.postgresql import psycopg as pg_dialect

    from app.models import LedgerEntry
    from app.repositories import bulk

    sql = str(sa.select(LedgerEntry.op_id).where(bulk.any_of(LedgerEntry.op_id, "ids", "postgresql"))
              .compile(dialect=pg_dialect.dialect()))
    assert "ANY (%(ids)s::UUID[])" in sql and "CAST" not in sql


def test_one_of_binds_its_array_with_the_array_type_too(app_context):
    from app.models import Change
    from app.repositories import bulk

    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no arrays: an IN list there")
    sql = str(sa.select(Change.seq).where(bulk.one_of(Change.entity_id, ["a", "b"]))
              .compile(dialect=db.session.get_bind().dialect))
    assert "::VARCHAR[])" in sql and "CAST" not in sql


# ---------------------------------------------------------------- COPYs overlapped (bulk.overlapping)


def _feed_rows(seqs) -> list[dict]:
    return [{"seq": seq, "entity": "reports", "entity_id": str(uuid.uuid4()), "district": 6, "user_id": None,
             "deleted": False, "at": now()} for seq in seqs]


def _in_flight() -> bool:
    from app.repositories import bulk

    return bulk._IN_FLIGHT in db.session.connection().info


def _feed_count(rows) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Change)
                             .where(Change.entity_id.in_([r["entity_id"] for r in rows])))


def test_an_overlapped_copy_returns_before_the_server_is_done_and_the_next_statement_waits_for_it(app_context):
    """On PostgreSQL the COPY returns with its rows sent, not yet stored; the next statement
    on the connection waits for it and sees every row (on SQLite the rows are simply there)."""
    from app.repositories import bulk

    postgresql = db.session.get_bind().dialect.name == "postgresql"
    first, second = _feed_rows([10_000_001, 10_000_002]), _feed_rows([10_000_003])
    with bulk.overlapping():
        bulk.insert_many(Change, first)
        assert _in_flight() is postgresql  # (the path under test was taken)
        bulk.insert_many(Change, second)  # the next COPY waits for the first
        assert _feed_count(first + second) == 3
        assert not _in_flight()
        bulk.insert_many(Change, _feed_rows([10_000_004]))
    assert not _in_flight()  # the block's end waited for the last
    db.session.rollback()


def test_an_overlapped_copy_that_fails_raises_its_error_in_the_block_and_its_savepoint_rolls_back(app_context):
    """A COPY that breaks a unique key raises IntegrityError, naming the COPY, by the block's
    end at the latest; the savepoint rolls back and the connection goes on (the push then
    applies its ops one at a time)."""
    from app.repositories import bulk

    kept = _feed_rows([10_000_011])
    bulk.insert_many(Change, kept)
    savepoint = db.session.begin_nested()
    with pytest.raises(sa.exc.IntegrityError) as raised:
        with bulk.overlapping():
            bulk.insert_many(Change, _feed_rows([10_000_012, 10_000_011]))
    assert "changes" in str(raised.value)
    savepoint.rollback()
    assert not _in_flight()
    assert _feed_count(kept) == 1
    db.session.rollback()


def test_an_exception_in_the_block_keeps_its_own_error_and_the_connection_usable(app_context):
    """Python's error inside the block, not the COPY's: the block waits for the COPY in flight
    (its error dropped), so that the rollback after it can run."""
    from app.repositories import bulk

    # On PostgreSQL a COPY that fails on the server (SQLite's insert would raise at once).
    seqs = [10_000_021, 10_000_021] if db.session.get_bind().dialect.name == "postgresql" else [10_000_021]
    savepoint = db.session.begin_nested()
    with pytest.raises(ValueError, match="a bug of ours"):
        with bulk.overlapping():
            bulk.insert_many(Change, _feed_rows(seqs))
            raise ValueError("a bug of ours")
    savepoint.rollback()
    assert db.session.scalar(sa.select(sa.literal(1))) == 1
    db.session.rollback()


def test_a_rollback_with_a_copy_in_flight_waits_for_it_first(app_context):
    from app.repositories import bulk

    rows = _feed_rows([10_000_031])
    with bulk.overlapping():
        bulk.insert_many(Change, rows)
        db.session.rollback()  # the session's connection returns to the pool rolled back
    assert _feed_count(rows) == 0
    db.session.rollback()


def _copied_so_far(backend_pid: int) -> int | None:
    """The rows the COPY running on that backend has read so far (pg_stat_progress_copy's
    tuples_processed), asked on a connection of its own; None when it runs none."""
    with db.engine.connect() as other:
        return other.execute(sa.text("SELECT tuples_processed FROM pg_stat_progress_copy WHERE pid = :pid"),
                             {"pid": backend_pid}).scalar()


def test_rows_made_in_batches_reach_the_server_a_batch_at_a_time(app_context):
    """bulk.insert_batches: on PostgreSQL the server has read a batch's rows (its COPY's
    progress) before the next batch is made; on both databases every row lands as made, a
    unique key broken in the last batch raises IntegrityError (and the caller's savepoint
    takes back whatever that call wrote), and batches with no rows make no statement."""
    from app.repositories import bulk

    postgresql = db.session.get_bind().dialect.name == "postgresql"
    batches = [_feed_rows(range(10_000_051 + 10 * b, 10_000_061 + 10 * b)) for b in range(3)]
    seen: list[int | None] = []

    def made():
        yield batches[0]
        if postgresql:
            for _ in range(500):  # the server reads what it was sent in its own time (up to 5 s here)
                seen.append(_copied_so_far(backend_pid))
                if seen[-1] == len(batches[0]):
                    break
                time.sleep(0.01)
        yield []  # (an empty batch is nothing)
        yield batches[1]
        yield batches[2]

    backend_pid = db.session.connection().connection.driver_connection.info.backend_pid if postgresql else None
    with bulk.overlapping():
        bulk.insert_batches(Change, made())
    if postgresql:
        assert seen[-1] == len(batches[0]), seen  # the first batch read before the second was made
    rows = [row for batch in batches for row in batch]
    stored = db.session.execute(sa.select(Change.seq, Change.entity_id, Change.district, Change.deleted)
                                .where(Change.seq.between(10_000_051, 10_000_080)).order_by(Change.seq)).all()
    assert [tuple(r) for r in stored] == [(r["seq"], r["entity_id"], r["district"], r["deleted"]) for r in rows]

    savepoint = db.session.begin_nested()
    first, clash = _feed_rows([10_000_093]), _feed_rows([10_000_091, 10_000_092]) + [rows[0]]
    with pytest.raises(sa.exc.IntegrityError):
        with bulk.overlapping():
            bulk.insert_batches(Change, iter([first, clash]))
    savepoint.rollback()
    assert _feed_count(first + clash[:2]) == 0 and _feed_count(rows) == 30

    statements = []

    def counted(connection, cursor, statement, *_):
        statements.append(statement)
    sa.event.listen(db.engine, "before_cursor_execute", counted)
    try:
        bulk.insert_batches(Change, iter([[], []]))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", counted)
    assert statements == []
    db.session.rollback()


def test_a_statement_while_a_batch_is_made_is_refused_not_left_waiting_for_ever(app_context):
    """On PostgreSQL the connection is inside the COPY while a batch is made, and psycopg
    would have a statement wait for the COPY's own lock for ever (a gunicorn thread gone for
    good). A statement then, a flush's too, raises at once, on both databases alike; after
    the query, rolled back, the session goes on, nothing written (after the flush: the next
    test)."""
    import signal

    from app.repositories import bulk

    def too_late(_signum, _frame):
        raise TimeoutError("the statement is waiting for the COPY's lock")

    query = lambda: db.session.execute(sa.select(sa.literal(1)))  # noqa: E731
    flush = lambda: (db.session.add(Change(**_feed_rows([10_000_099])[0])), db.session.flush())  # noqa: E731
    for statement in (query, flush):  # (the flush last: see below)
        first = _feed_rows([10_000_097])

        def made():
            yield first
            statement()
            yield _feed_rows([10_000_098])

        previous = signal.signal(signal.SIGALRM, too_late)
        signal.alarm(20)  # were it to wait, the test fails instead of hanging the suite
        try:
            with pytest.raises(RuntimeError, match="while bulk.insert_batches makes a batch"):
                with bulk.overlapping():
                    bulk.insert_batches(Change, made())
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
        if statement is flush:
            # The flush's own rollback of its savepoint was refused too (the COPY still open):
            # a request's end closes the session, which rolls the transaction back whole; here
            # the tests' outer transaction is rolled back after the test.
            break
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.literal(1))) == 1
        assert _feed_count(first) == 0


def test_a_flush_while_a_batch_is_made_outside_a_savepoint_is_refused_and_the_session_recovers(app_context):
    """Without a savepoint a failed flush rolls the whole transaction back, which psycopg too
    would have wait for the COPY's lock: refused as well. The session, closed as a request's
    end closes it, has its connection back, nothing written. (On a session of its own, not
    the tests' one inside an outer transaction.)"""
    import signal

    from app.repositories import bulk

    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("the COPY's lock is PostgreSQL's (and on SQLite a session of its own cannot write beside the "
                    "tests' open transaction)")

    def too_late(_signum, _frame):
        raise TimeoutError("the rollback is waiting for the COPY's lock")

    first = _feed_rows([10_000_101])

    def made():
        yield first
        db.session.add(Change(**_feed_rows([10_000_102])[0]))
        db.session.flush()
        yield _feed_rows([10_000_103])

    tests_session, db.session = db.session, db._make_scoped_session({})
    previous = signal.signal(signal.SIGALRM, too_late)
    signal.alarm(20)
    try:
        with pytest.raises(RuntimeError, match="while bulk.insert_batches makes a batch"):
            bulk.insert_batches(Change, made())
        signal.alarm(0)
        db.session.remove()
        assert db.session.scalar(sa.select(sa.literal(1))) == 1
        assert _feed_count(first) == 0
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        db.session.remove()
        db.session = tests_session


def test_a_push_of_many_batches_whose_last_clashes_falls_back_and_lands_each_report_once(
        client, office, app_context, monkeypatch, caplog):
    """A push's new reports go in batches (SqlStore.insert_reports): a report id taken that the
    lookups missed, in the last batch, fails the whole insert; every op is then applied alone,
    and each report is stored once."""
    from app.services import sync_store

    ops = [op(data=report_data(office)) for _ in range(2 * sync_store.REPORTS_A_BATCH + 7)]
    (first,) = push(client, [earlier := op(data=report_data(office))])
    monkeypatch.setattr(SqlStore, "existing_report_ids", lambda self, ids: set())
    ops[-2] = op(id_=earlier["id"], data=report_data(office))
    results = push(client, ops)
    assert f"bulk insert of {len(ops)} new reports failed" in caplog.text  # (the path under test was taken)
    assert [r["status"] for r in results] == ["applied"] * (len(ops) - 2) + ["duplicate", "applied"]
    assert results[-2]["version"] == first["version"]
    pulled = _pulled(client)
    assert all(orjson.dumps(pulled[sent["id"]]) == orjson.dumps(result["record"])
               for sent, result in zip(ops, results) if sent is not ops[-2])
    db.session.expire_all()
    ids = [uuid.UUID(sent["id"]) for sent in ops]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report).where(Report.id.in_(ids))) == len(ops)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportVersion)
                             .where(ReportVersion.report_id.in_(ids))) == len(ops)


def test_the_installed_psycopg_lets_copies_overlap(app_context):
    """`bulk.overlapping` uses what psycopg does not document (its generators and waiting
    states, a connection's `wait` and `lock`, `errors.error_from_result`); a psycopg that moved
    them would leave the COPYs waiting, slower but whole (the next test). This one says so when
    the installed psycopg is such a one."""
    from app.repositories import bulk

    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    assert bulk.CAN_OVERLAP, "this psycopg's internals changed: COPYs no longer overlap the Python after them"


def test_without_overlapping_a_push_of_many_still_lands_every_report_in_bulk(client, office, app_context,
                                                                               monkeypatch):
    """With a psycopg whose internals the overlap cannot use, each COPY waits for its answer
    and the push's bulk path is taken all the same: no op goes one at a time."""
    from app.repositories import bulk
    from sync import push as engine

    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    assert bulk._can_overlap() is bulk.CAN_OVERLAP
    monkeypatch.setattr(bulk, "fetch_many", None)  # (a psycopg that moved its generators)
    assert not bulk._can_overlap()
    monkeypatch.setattr(bulk, "CAN_OVERLAP", False)
    with bulk.overlapping():
        bulk.insert_many(Change, _feed_rows([10_000_041]))
        assert not _in_flight()
    db.session.rollback()

    def one_at_a_time(self, raw):
        raise AssertionError("an op of the push went one at a time")
    monkeypatch.setattr(engine._Engine, "apply_one", one_at_a_time)
    from app.services import sync_store

    ops = [op(data=report_data(office)) for _ in range(2 * sync_store.REPORTS_A_BATCH + 7)]  # three batches
    results = push(client, ops)
    assert [r["status"] for r in results] == ["applied"] * len(ops)
    pulled = _pulled(client)
    assert all(orjson.dumps(pulled[sent["id"]]) == orjson.dumps(result["record"]) for sent, result in zip(ops, results))


def test_the_app_imports_with_a_psycopg_that_moved_its_generators():
    """The overlap's imports of psycopg's internal modules cannot stop the app from starting."""
    import subprocess
    import sys

    code = ("import psycopg, sys; sys.modules['psycopg.generators'] = None\n"
            "from app.repositories import bulk\n"
            "print(bulk.CAN_OVERLAP, bulk.fetch_many)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "None"]
