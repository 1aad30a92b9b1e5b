"""Small builders for sync tests: envelopes, ops and reports as a phone would send them."""

import hashlib
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

TEHRAN = ZoneInfo("Asia/Tehran")


def now() -> datetime:
    return datetime.now(TEHRAN).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def op(action="create", entity="reports", id_=None, base_version=None, data=None, changed_at=None, op_id=None):
    out = {"op_id": op_id or str(uuid.uuid4()), "entity": entity, "action": action, "id": id_ or str(uuid.uuid4()),
           "base_version": base_version, "changed_at": iso(changed_at or now())}
    if data is not None:
        out["data"] = data
    return out


def report_data(office: dict, state="open", observed_at=None, **extra) -> dict:
    return {"office_id": office["id"], "observed_at": iso(observed_at or now() - timedelta(minutes=1)),
            "location": office["location"], "accuracy_m": 15.0, "office_state": state, **extra}


def envelope(ops, device_id=None, sent_at=None) -> dict:
    return {"protocol": 1, "device_id": device_id or str(uuid.uuid4()), "sent_at": iso(sent_at or now()),
            "ops": ops}


def push(client, ops, user="inspector-6a", **kwargs) -> list[dict]:
    """Push `ops` as `user` (the `client` fixture); the push must be answered 200: its results."""
    response = client.as_(user).post("/api/v1/sync/push", json=envelope(ops, **kwargs))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["results"]


def jpeg(seed: str, size: int = 3000) -> tuple[bytes, str]:
    """Bytes that stand for a photo, and their sha256."""
    body = (b"\xff\xd8\xff" + seed.encode() * (size // max(1, len(seed)) + 1))[:size]
    return body, hashlib.sha256(body).hexdigest()


class HugeBody:
    """A 200 MB request body that counts what the server reads of it."""

    size = 200 * 1024 * 1024

    def __init__(self):
        self.position = self.read_bytes = 0

    def read(self, size=-1):
        size = min(self.size - self.position, 65536 if size is None or size < 0 else size)
        self.position += size
        self.read_bytes += size
        return b"\xff" * size

    def readline(self, size=-1):
        return self.read(size)

    def tell(self):
        return self.position

    def seek(self, offset, whence=0):
        self.position = self.size + offset if whence == 2 else offset


def chunked(body) -> dict:
    """The environ a server hands on for a chunked body (no Content-Length: read to its end);
    send it with `Transfer-Encoding: chunked`."""
    return {"wsgi.input": body, "wsgi.input_terminated": True}


def first_office(client, user="inspector-6a", district=6) -> dict:
    return client.as_(user).get(f"/api/v1/offices?district={district}&page_size=1").get_json()[0]


class FlaskTransport:
    """The reference client's transport over the Flask test client (WSGI, real HTTP handling)."""

    def __init__(self, flask_client):
        self.http = flask_client

    def request(self, method, path, body=None, headers=None):
        from sync.client import Response

        response = self.http.open(path, method=method, data=body, headers=headers or {})
        return Response(response.status_code, dict(response.headers), response.get_data())


class Flaky:
    """A transport that fails on chosen requests: `lose` delivers the request and loses the
    answer (the server applied it); `drop` fails before the server sees it."""

    def __init__(self, inner, lose=(), drop=()):
        self.inner = inner
        self.lose = set(lose)  # numbers (1-based) of matching requests
        self.drop = set(drop)
        self.count = 0
        self.sent = []

    def request(self, method, path, body=None, headers=None):
        from sync.client import TransportError

        self.count += 1
        self.sent.append((method, path))
        if self.count in self.drop:
            raise TransportError("the line dropped before the request got through")
        response = self.inner.request(method, path, body, headers)
        if self.count in self.lose:
            raise TransportError("the answer was lost on the way back")
        return response


def phone(client_fixture, tmp_path, username, name="phone", transport=None, clock=None):
    """A logged-in reference client with its own store, talking to the app under test."""
    from sync.client import Client

    transport = transport or FlaskTransport(client_fixture.http)
    kwargs = {"clock": clock} if clock else {}
    device = Client(tmp_path / f"{name}.db", transport, sleep=lambda s: None, **kwargs)
    device._set_meta("token", client_fixture.tokens[username])
    device._set_meta("username", username)
    return device
