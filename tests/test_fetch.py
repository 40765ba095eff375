"""The downloader against a real HTTP server on loopback serving fixture files."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import socket
import struct
import threading
import time

import pytest
from helpers import demo_frame, write_xpt
from typer.testing import CliRunner

from ingest.fetch import FetchError, OfflineError, fetch, fetch_one
from nhanes_bone.cli import app
from nhanes_bone.core.catalog import load_catalog


@pytest.fixture(scope="module")
def payload(tmp_path_factory) -> bytes:
    return write_xpt(tmp_path_factory.mktemp("fixture") / "DEMO_H.XPT", demo_frame(30), "DEMO_H").read_bytes()


@pytest.fixture(scope="module")
def server(payload):
    """Serves CDC's layout: DEMO_H fine, BMX_H 404, BPQ_H a truncated body, DIQ_H wrong bytes,
    CBC_H a server that stalls before answering, RHQ_H a connection reset in mid-body."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            requests.append(self.path)
            name = self.path.rsplit("/", 1)[-1]
            if name == "CBC_H.xpt":
                time.sleep(1.5)  # longer than the client's timeout
                return
            if name == "RHQ_H.xpt":
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                # SO_LINGER 0: close with a TCP reset instead of a clean end of stream
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                return
            if name == "DEMO_H.xpt":
                body, length = payload, len(payload)
            elif name == "BPQ_H.xpt":
                body, length = payload[:1000], len(payload)
            elif name == "DIQ_H.xpt":
                body, length = payload[::-1], len(payload)
            else:
                self.send_error(404, "Not Found")
                return
            self.send_response(200)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", requests
    httpd.shutdown()


def entry(table: str, payload: bytes):
    """The real catalog entry, with the checksum of the fixture file."""
    return dataclasses.replace(
        load_catalog()[table], sha256=hashlib.sha256(payload).hexdigest(), expected_size=len(payload)
    )


def test_download_is_checked_and_atomic(server, payload, tmp_path):
    base, _ = server
    path = fetch_one(entry("DEMO_H", payload), tmp_path, base_url=base, backoff=0)
    assert path == tmp_path / "DEMO_H.xpt"
    assert path.read_bytes() == payload
    assert not list(tmp_path.glob("*.part"))


def test_file_already_present_is_not_downloaded_again(server, payload, tmp_path):
    base, requests = server
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "demo_h.XPT").write_bytes(payload)
    before = len(requests)
    results = fetch([entry("DEMO_H", payload)], tmp_path, base_url=base, backoff=0)
    assert [r.status for r in results] == ["cached"]
    assert len(requests) == before


def test_404_is_reported_without_retries(server, payload, tmp_path):
    base, requests = server
    before = len(requests)
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch_one(entry("BMX_H", payload), tmp_path, base_url=base, backoff=0)
    assert len(requests) == before + 1
    assert not list(tmp_path.iterdir())


def test_truncated_body_is_retried_then_discarded(server, payload, tmp_path):
    base, requests = server
    before = len(requests)
    with pytest.raises(FetchError, match="BPQ_H: gave up after 2 attempts"):
        fetch_one(entry("BPQ_H", payload), tmp_path, base_url=base, retries=2, backoff=0)
    assert len(requests) == before + 2
    assert not list(tmp_path.iterdir())


def test_a_server_that_stalls_times_out_and_is_retried(server, payload, tmp_path):
    base, requests = server
    before = len(requests)
    started = time.monotonic()
    with pytest.raises(FetchError, match="CBC_H: gave up after 2 attempts: .*timed out"):
        fetch_one(entry("CBC_H", payload), tmp_path, base_url=base, retries=2, timeout=0.3, backoff=0)
    assert time.monotonic() - started < 1.4  # the timeout, not the server, ended each attempt
    assert len(requests) == before + 2
    assert not list(tmp_path.iterdir())


def test_a_connection_reset_mid_body_is_retried_then_discarded(server, payload, tmp_path):
    base, requests = server
    before = len(requests)
    with pytest.raises(FetchError, match="RHQ_H: gave up after 2 attempts: .*Connection reset"):
        fetch_one(entry("RHQ_H", payload), tmp_path, base_url=base, retries=2, backoff=0)
    assert len(requests) == before + 2
    assert not list(tmp_path.iterdir())


def test_checksum_mismatch_is_discarded(server, payload, tmp_path):
    base, _ = server
    with pytest.raises(FetchError, match="sha256"):
        fetch_one(entry("DIQ_H", payload), tmp_path, base_url=base, retries=1, backoff=0)
    assert not list(tmp_path.iterdir())


def test_offline_stops_with_one_message_and_two_remedies(tmp_path):
    with pytest.raises(OfflineError):
        fetch_one(load_catalog()["DEMO_H"], tmp_path, base_url="http://127.0.0.1:9", backoff=0)
    result = CliRunner().invoke(
        app,
        [
            "fetch",
            "--data-dir",
            str(tmp_path),
            "--tables",
            "DEMO_H,P_PBCD",
            "--base-url",
            "http://127.0.0.1:9",
        ],
    )
    assert result.exit_code == 2
    assert "Missing 2 file(s): DEMO_H, P_PBCD" in result.output
    assert "put the NHANES .xpt files into" in result.output and "synthetic twin" in result.output
    assert "Traceback" not in result.output
