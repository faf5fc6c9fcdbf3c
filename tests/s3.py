"""A real S3-compatible server for the tests of object storage: s3rver (Node, on the npm
registry), which keeps buckets as folders, started on a free loopback port like tests/pg.py
starts PostgreSQL. ``tests/setup-system`` (make test) installs it into tests/s3server/.

Debian's rclone (1.60) has no ``serve s3`` (it came in 1.65), so it cannot be the server. The
tests that need it are skipped, saying why, when node or the package is missing.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from app.services.storage import EXTENSION
from tests.pg import free_port

PACKAGE = Path(__file__).resolve().parent / "s3server"
SCRIPT = PACKAGE / "node_modules" / "s3rver" / "bin" / "s3rver.js"
ACCESS_KEY = SECRET_KEY = "S3RVER"  # the server's fixed credentials
PREFIX = "bbw/attachments"  # the tests' S3_PREFIX
buckets = itertools.count(1)


def missing() -> str:
    """Why the server cannot run here, or '' when it can."""
    if shutil.which("node") is None:
        return "node is not installed: tests/setup-system (make test) installs it"
    if not SCRIPT.exists():
        return "s3rver is not installed: run tests/setup-system (or npm ci in tests/s3server)"
    return ""


class Server:
    """s3rver in a temporary folder; ``stop()`` and ``start()`` again keep its port and data
    (an outage and the recovery), ``remove()`` ends it and deletes every trace."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="bbw-s3."))
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def start(self, deadline: float = 20) -> Server:
        log = (self.folder / "server.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own pinned package
            [shutil.which("node") or "node", str(SCRIPT), "-d", str(self.folder / "data"),
             "-a", "127.0.0.1", "-p", str(self.port), "-s"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        until = time.monotonic() + deadline
        while time.monotonic() < until:
            if self.process.poll() is not None:
                raise RuntimeError(f"s3rver stopped at once: {(self.folder / 'server.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"s3rver did not listen on port {self.port} within {deadline} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)  # were it frozen
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def freeze(self) -> None:
        """Stop the server answering while its port still takes connections (a hung store)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def settings(self, bucket: str, prefix: str = "") -> dict:
        """The app's settings for a bucket on this server."""
        return {"ATTACHMENT_STORAGE": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": self.endpoint,
                "S3_REGION": "us-east-1", "S3_PREFIX": prefix, "S3_ACCESS_KEY_ID": ACCESS_KEY,
                "S3_SECRET_ACCESS_KEY": SECRET_KEY, "S3_ADDRESSING_STYLE": "path", "S3_TIMEOUT": 2.0}


@pytest.fixture(scope="module")
def server():
    """The running server, for a test module (import it with ``bucket``)."""
    why = missing()
    if why:
        pytest.skip(f"no S3 server to test against: {why}")
    running = Server().start()
    yield running
    running.remove()


@pytest.fixture
def bucket(app, server):
    """A new bucket on the running server, and the app storing its attachments there under
    PREFIX; yields a boto3 client and the bucket's name."""
    if server.process is None:  # a test that stopped it failed before starting it again
        server.start()
    name = f"bbw-test-{next(buckets)}"
    client = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                          aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                          config=Config(s3={"addressing_style": "path"}))
    client.create_bucket(Bucket=name)
    app.config.update(server.settings(name, PREFIX))
    app.extensions.pop(EXTENSION, None)
    yield client, name
    app.extensions.pop(EXTENSION, None)
