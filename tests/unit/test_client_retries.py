"""How the reference client waits between retries: jittered backoff, and Retry-After."""

import pytest

from sync.client import Client, Response, ServerError, TransportError


class Scripted:
    """A transport that gives the answers it is given, in order."""

    def __init__(self, *answers):
        self.answers = list(answers)

    def request(self, method, path, body=None, headers=None):
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(tmp_path, *answers, **kwargs):
    slept: list[float] = []
    device = Client(tmp_path / "phone.db", Scripted(*answers), sleep=slept.append, backoff_s=1.0, **kwargs)
    return device, slept


def ok():
    return Response(200, {}, b"{}")


def test_a_busy_server_is_waited_for_as_long_as_its_retry_after_asks(tmp_path):
    busy = Response(503, {"Retry-After": "7"}, b"")
    limited = Response(429, {"retry-after": "20"}, b"")
    device, slept = client(tmp_path, busy, limited, ok())
    assert device._call("GET", "/x").status == 200
    assert slept[0] == 7 and slept[1] == 20


def test_a_retry_after_beyond_five_minutes_or_not_a_number_is_not_taken_as_given(tmp_path):
    device, slept = client(tmp_path, Response(503, {"Retry-After": "86400"}, b""),
                           Response(503, {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}, b""), ok())
    device._call("GET", "/x")
    assert slept[0] == 300
    assert 1.0 <= slept[1] <= 2.0  # the backoff of a second attempt: half to all of 2 s


@pytest.mark.parametrize("header", ["nan", "NaN", "inf", "-inf", "-5", "1e999"])
def test_a_retry_after_that_is_no_number_of_seconds_is_waited_as_no_retry_after(tmp_path, header):
    device, slept = client(tmp_path, Response(503, {"Retry-After": header}, b""), ok())
    assert device._call("GET", "/x").status == 200
    assert len(slept) == 1 and 0.5 <= slept[0] <= 1.0  # the first backoff: half to all of 1 s


@pytest.mark.parametrize("header", ["nan", "inf", "1e999"])
def test_a_shed_whose_retry_after_is_no_number_of_seconds_is_waited_the_least(tmp_path, header):
    # A `nan` once reached time.sleep, and the sync ended in a ValueError.
    device, slept = client(tmp_path, shed(header), ok())
    assert device._call("POST", "/api/v1/sync/push").status == 200
    assert slept == [1.0]  # the client's backoff_s, the least a shed is waited


def test_retries_back_off_exponentially_with_jitter_and_then_give_up(tmp_path):
    lost = TransportError("no answer")
    device, slept = client(tmp_path, *[lost] * 5, retries=5)
    with pytest.raises(TransportError):
        device._call("GET", "/x")
    assert len(slept) == 4
    for attempt, wait in enumerate(slept):
        assert 2 ** attempt / 2 <= wait <= 2 ** attempt


def test_phones_that_failed_together_spread_their_retries(tmp_path):
    first_waits = []
    for i in range(20):
        (tmp_path / str(i)).mkdir()
        device, slept = client(tmp_path / str(i), TransportError("cut"), ok())
        device._call("GET", "/x")
        first_waits.append(slept[0])
    assert len(set(first_waits)) > 10 and all(0.5 <= w <= 1.0 for w in first_waits)


def test_a_client_error_is_not_retried(tmp_path):
    device, slept = client(tmp_path, Response(422, {}, b"{}"))
    assert device._call("GET", "/x").status == 422 and slept == []
    device, slept = client(tmp_path, Response(500, {}, b""), retries=1)
    with pytest.raises(ServerError):
        device._call("GET", "/x")


def shed(after: str = "3") -> Response:
    return Response(503, {"Retry-After": after, "Content-Type": "application/problem+json"},
                    b'{"type": "/problems/overloaded", "status": 503}')


def test_a_request_shed_past_capacity_is_sent_again_after_its_retry_after_spending_no_retry(tmp_path):
    # More sheds than retries, then a lost answer and a success: the sheds spent none of the 2 retries.
    device, slept = client(tmp_path, *[shed()] * 6, TransportError("cut"), ok(), retries=2)
    assert device._call("POST", "/api/v1/sync/push").status == 200
    assert slept[:6] == [3.0] * 6 and len(slept) == 7


def test_a_phone_waits_out_sheds_only_so_long_then_gives_up_for_this_sync(tmp_path):
    device, slept = client(tmp_path, *[shed("60")] * 20, retries=1, patience_s=120)
    with pytest.raises(ServerError):
        device._call("POST", "/api/v1/sync/push")
    assert sum(slept) == 120


def test_a_503_of_a_database_away_still_spends_a_retry(tmp_path):
    away = Response(503, {"Retry-After": "3"}, b'{"type": "/problems/unavailable", "status": 503}')
    device, slept = client(tmp_path, away, away, retries=2)
    with pytest.raises(ServerError):
        device._call("GET", "/x")
    assert slept == [3.0]


def test_a_503_to_a_head_has_no_body_to_name_it_and_is_waited_out_as_a_shed(tmp_path):
    device, slept = client(tmp_path, *[Response(503, {"Retry-After": "4"}, b"")] * 3, ok(), retries=1)
    assert device._call("HEAD", "/api/v1/attachments/x", retry=False).status == 200
    assert slept == [4.0, 4.0, 4.0]
