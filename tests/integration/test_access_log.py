"""The secret in an emailed decision link, or a link to choose a password, never reaches an access log:
the app's own line names the route, and gunicorn's access log, if switched on, is redacted."""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request

import pytest
from werkzeug.serving import make_server

SECRET = "Zm9vYmFyLXNlY3JldC10b2tlbi10aGF0LW11c3Qtbm90LWxlYWs"


@pytest.mark.parametrize("prefix", ["/decide/", "/account/password/"])
def test_the_access_log_names_a_links_route_not_its_secret(app, caplog, prefix):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}{prefix}{SECRET}?x=1", timeout=10)
            except urllib.error.HTTPError as refused:  # an unknown link: the page says so
                assert refused.code in (400, 404, 410)
    finally:
        server.shutdown()
        thread.join(10)
    [line] = [record.getMessage() for record in caplog.records if record.name == "app.access"]
    assert line.startswith(f"GET {prefix}<secret> 404 "), line
    assert not [record for record in caplog.records if record.name == "werkzeug"]  # the app's line replaces it
    assert SECRET not in caplog.text


def test_gunicorns_access_log_is_redacted_should_it_be_switched_on(app, caplog):
    atoms = {"r": f"GET /decide/{SECRET} HTTP/1.1", "U": f"/account/password/{SECRET}", "s": "200"}
    with caplog.at_level(logging.INFO, logger="gunicorn.access"):
        logging.getLogger("gunicorn.access").info('%(r)s %(U)s %(s)s', atoms)
    assert caplog.records[-1].getMessage() == "GET /decide/[hidden] HTTP/1.1 /account/password/[hidden] 200"
