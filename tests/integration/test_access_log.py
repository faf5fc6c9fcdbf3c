"""The secret in an emailed decision link, or a link to choose a password, never reaches an access log."""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request

import pytest
from werkzeug.serving import make_server

SECRET = "Zm9vYmFyLXNlY3JldC10b2tlbi10aGF0LW11c3Qtbm90LWxlYWs"


@pytest.mark.parametrize("prefix", ["/decide/", "/account/password/"])
def test_the_dev_servers_access_log_hides_a_links_secret(app, caplog, prefix):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}{prefix}{SECRET}?x=1", timeout=10)
            except urllib.error.HTTPError as refused:  # an unknown link: the page says so
                assert refused.code in (400, 404, 410)
    finally:
        server.shutdown()
        thread.join(10)
    lines = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert any(f"{prefix}[hidden]" in line for line in lines), lines
    assert SECRET not in caplog.text
