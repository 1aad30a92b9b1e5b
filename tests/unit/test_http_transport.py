"""The reference client's HTTP transport (sync.client.HttpTransport) against real sockets: one
connection kept from request to request, and what happens when the server ends it.

Servers here are scripted (a socket server whose handler does what each test needs: close
a connection it kept open, never answer), for the edges a real server shows only by chance.
tests/live_server/test_client_transport.py runs a whole phone's sync against Bazres itself."""

import http.server
import socket
import struct
import threading
import time

import pytest

from sync.client import HttpTransport, TransportError


class Recording(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless an answer says otherwise

    def setup(self):
        super().setup()
        self.server.connections += 1

    def do_GET(self):
        self.answer()

    def do_POST(self):
        self.answer(self.rfile.read(int(self.headers.get("Content-Length", 0))))

    def answer(self, body: bytes = b""):
        self.server.requests.append((self.command, self.path, body))
        self.server.agents.append(self.headers.get("User-Agent"))
        mode = self.server.mode
        if mode == "silent":
            time.sleep(4)  # the client has given up by then
            self.close_connection = True
            return
        if mode == "reset-mid-body":
            # Half the answer, then the connection reset (RST, not a close): the request was
            # served, and the phone must not hear "send it again at once".
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()  # at once, before socketserver's own shutdown (a FIN) could
            self.close_connection = True
            return
        payload = b'{"n": %d}' % len(self.server.requests)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if mode == "close-header":
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)
        if mode == "drop-after":
            # Ends the connection after the answer without saying so: what a server does to a
            # connection that sat idle past its keep-alive, as the client sends on it.
            self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    httpd.daemon_threads = True
    httpd.connections, httpd.requests, httpd.agents, httpd.mode = 0, [], [], "keep"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def url(httpd) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}"


def test_requests_of_one_phone_go_on_one_connection(server):
    transport = HttpTransport(url(server))
    answers = [transport.request("POST", "/api/v1/sync/push", b'{"ops": []}',
                                 {"Content-Type": "application/json"}) for _ in range(5)]
    assert [a.json()["n"] for a in answers] == [1, 2, 3, 4, 5]
    assert server.connections == 1
    assert server.requests[0] == ("POST", "/api/v1/sync/push", b'{"ops": []}')
    assert server.agents[0].startswith("bazres-sync-client/1 ")  # what a login records of the device


def test_a_connection_reset_while_the_answer_comes_is_an_error_and_the_request_not_sent_again(server):
    transport = HttpTransport(url(server))
    transport.request("GET", "/warm")  # a reused connection: were anything retried, this would be
    server.mode = "reset-mid-body"
    with pytest.raises(TransportError):
        transport.request("POST", "/api/v1/sync/push", b"{}")
    time.sleep(0.2)
    assert [path for _, path, _ in server.requests] == ["/warm", "/api/v1/sync/push"]


def test_a_connection_the_server_ended_while_idle_is_replaced_and_the_request_sent_once(server):
    transport = HttpTransport(url(server))
    server.mode = "drop-after"
    assert transport.request("GET", "/one").status == 200
    time.sleep(0.1)  # the server has closed its end
    assert transport.request("GET", "/two").json()["n"] == 2  # no TransportError for the phone to back off on
    assert [path for _, path, _ in server.requests] == ["/one", "/two"]
    assert server.connections == 2


def test_an_answer_that_says_connection_close_ends_the_connection(server):
    transport = HttpTransport(url(server))
    server.mode = "close-header"
    transport.request("GET", "/one")
    server.mode = "keep"
    transport.request("GET", "/two")
    transport.request("GET", "/three")
    assert server.connections == 2


def test_a_request_that_times_out_is_not_sent_again_by_the_transport(server):
    transport = HttpTransport(url(server), timeout=1.5)
    transport.request("GET", "/warm")  # a reused connection: only its closing would be retried
    server.mode = "silent"
    with pytest.raises(TransportError):
        transport.request("POST", "/api/v1/sync/push", b"{}")
    assert [path for _, path, _ in server.requests] == ["/warm", "/api/v1/sync/push"]
    server.mode = "keep"
    assert transport.request("GET", "/after").status == 200  # a new connection


def test_no_server_there_is_a_transport_error():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransportError):
        HttpTransport(f"http://127.0.0.1:{port}", timeout=2).request("GET", "/healthz")


def test_a_base_url_with_a_path_prefixes_every_request(server):
    HttpTransport(url(server) + "/bazres/").request("GET", "/api/v1/auth/me")
    assert server.requests[-1][1] == "/bazres/api/v1/auth/me"


def test_through_a_proxy_the_environment_names_requests_go_as_urllib_sends_them(server, monkeypatch):
    # The scripted server stands for the proxy: it is sent the whole URL, as a proxy is.
    monkeypatch.setenv("http_proxy", url(server))
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    answer = HttpTransport("http://bazres.example:8000").request("GET", "/healthz")
    assert answer.status == 200
    assert server.requests[-1][1] == "http://bazres.example:8000/healthz"


def test_not_an_http_url_is_refused_when_the_transport_is_made():
    with pytest.raises(ValueError, match="not an http"):
        HttpTransport("ftp://127.0.0.1/")
