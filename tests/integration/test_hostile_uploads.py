"""Hostile uploads are refused with a clear message; nothing is stored, read or run.

Each attack goes through the service (unpack_upload + check_upload) and through the CLI
(`flask workflows check` and `flask workflows upload --activate`). The proofs are what an
attacker would look for: a secret file's content appears nowhere, a local web server receives
no request, a file a script would create does not exist, and no process version is added.
"""

from __future__ import annotations

import http.server
import io
import socket
import struct
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask_migrate import upgrade
from lxml import etree
from sqlalchemy import func, select

from app import create_app
from app.cli import load_demo_data
from app.engine.reading import xml_parser
from app.extensions import db
from app.models import AuditEvent, ProcessDefinition, ProcessVersion
from app.services.diagram_checks import UploadRefused, check_upload, unpack_upload

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "diagrams"
SECRET = "TOP-SECRET-7f3a9c"
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n{doctype}'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://x">\n'
        '  <bpmn:process id="hostile" name="Hostile" isExecutable="true">\n'
        '    <bpmn:startEvent id="start" camunda:formKey="hostile.start">'
        '<bpmn:documentation>{documentation}</bpmn:documentation>'
        '<bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n'
        '    <bpmn:scriptTask id="work" name="Work" scriptFormat="python"><bpmn:incoming>f1</bpmn:incoming>'
        '<bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>\n'
        '    <bpmn:exclusiveGateway id="gw" default="f4"><bpmn:incoming>f2</bpmn:incoming>'
        '<bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing></bpmn:exclusiveGateway>\n'
        '    <bpmn:endEvent id="end_a"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>\n'
        '    <bpmn:endEvent id="end_b"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>\n'
        '    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />\n'
        '    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="gw" />\n'
        '    <bpmn:sequenceFlow id="f3" name="Odd" sourceRef="gw" targetRef="end_a">'
        '<bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>\n'
        '    <bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="end_b" />\n'
        '  </bpmn:process>\n</bpmn:definitions>\n')


def diagram(doctype: str = "", documentation: str = "Start.", script: str = "x = 1",
            condition: str = "x == 1") -> bytes:
    return HEAD.format(doctype=doctype, documentation=documentation, script=script,
                       condition=condition).encode()


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_with_link(name: str, target: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(name)
        info.external_attr = (0o120777 << 16)  # a symbolic link, as `zip --symlinks` stores it
        archive.writestr(info, target)
    return buffer.getvalue()


def zip_understating_its_size() -> bytes:
    """One entry that says it unpacks to 1 000 bytes but holds 4 MB of zeros."""
    data = zipped({"small.bpmn": b"\0" * (4 * 1024 * 1024)})
    # Patch the sizes in the local header (offset 22) and the central directory (offset 24).
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    patched = bytearray(data)
    struct.pack_into("<I", patched, local + 22, 1000)
    struct.pack_into("<I", patched, central + 24, 1000)
    return bytes(patched)


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):
        _Recorder.requests.append(self.path)
        body = f'<!ENTITY leak "{SECRET}">'.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def listener():
    """A web server on 127.0.0.1 that records every request an XML parser might make."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def target_app(tmp_path_factory):
    """One app for every attack: each must leave it as it found it, which the test checks."""
    folder = tmp_path_factory.mktemp("attacks")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(folder / "instance"),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'attacks.sqlite3'}",
                      "UPLOAD_FOLDER": str(folder / "uploads"), "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        upgrade()  # the schema as the migrations build it
        load_demo_data()
        db.session.commit()
        yield app
        db.session.remove()


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


def attacks(secret_file: Path, listener: str, target: Path) -> dict[str, tuple[list[tuple[str, bytes]], str]]:
    """Each attack: the upload and the words its refusal must contain."""
    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    laughs = f'<!DOCTYPE lolz [<!ENTITY lol0 "lol">{lol}]>\n'
    quadratic = f'<!DOCTYPE q [<!ENTITY a "{"x" * 50_000}">]>\n'
    decl = "a DOCTYPE or entity declaration is not allowed"
    return {
        "xxe_file": ([("hostile.bpmn", diagram(f'<!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{secret_file}">]>\n',
                                               documentation="&xxe;"))], decl),
        "xxe_network": ([("hostile.bpmn", diagram(f'<!DOCTYPE d [<!ENTITY xxe SYSTEM "{listener}/entity">]>\n',
                                                  documentation="&xxe;"))], decl),
        "parameter_entity": ([("hostile.bpmn", diagram(
            f'<!DOCTYPE d [<!ENTITY % remote SYSTEM "{listener}/param.dtd"> %remote;]>\n',
            documentation="&leak;"))], decl),
        "external_dtd": ([("hostile.bpmn", diagram(f'<!DOCTYPE d SYSTEM "{listener}/evil.dtd">\n',
                                                   documentation="&leak;"))], decl),
        "billion_laughs": ([("hostile.bpmn", diagram(laughs, documentation="&lol9;"))], decl),
        "quadratic_blowup": ([("hostile.bpmn", diagram(quadratic, documentation="&a;" * 10_000))], decl),
        "huge_text_node": ([("hostile.bpmn", diagram(documentation="A" * (20 * 1024 * 1024)))],
                           "is larger than 5 MB"),
        "zip_bomb": ([("bomb.zip", zipped({"hostile.bpmn": diagram(documentation=" " * (4 * 1024 * 1024))}))],
                     "compressed more than 100 times"),
        "zip_lying_about_its_size": ([("liar.zip", zip_understating_its_size())], "cannot be read"),
        "zip_dot_dot": ([("travel.zip", zipped({f"../{target.name}": diagram()}))], "has a folder or path"),
        "zip_absolute": ([("travel.zip", zipped({str(target): diagram()}))], "has a folder or path"),
        "zip_link": ([("travel.zip", zip_with_link("hostile.bpmn", str(secret_file)))], "is a link"),
        "not_bpmn": ([("hostile.bpmn", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>')],
                     "not a BPMN 2.0 diagram"),
        "script_import": ([("hostile.bpmn", diagram(
            script=f"__import__('os').system('touch {target}')"))], '"__import__" is an invalid variable name'),
        "script_open": ([("hostile.bpmn", diagram(script=f"open('{target}', 'w').write('x')"))],
                        "it uses open, which diagrams may not use"),
        "script_eval": ([("hostile.bpmn", diagram(script=f"eval(\"open('{target}', 'w')\")"))],
                        "Eval calls are not allowed"),
        "script_subclasses": ([("hostile.bpmn", diagram(
            script="x = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen']"))],
            '"__subclasses__" is an invalid attribute name'),
        "condition_globals": ([("hostile.bpmn", diagram(condition="iso.__globals__['__builtins__']"))],
                              '"__globals__" is an invalid attribute name'),
        "condition_import": ([("hostile.bpmn", diagram(
            condition=f"__import__('os').system('touch {target}') == 0"))], '"__import__" is an invalid variable name'),
        "condition_open": ([("hostile.bpmn", diagram(condition=f"open('{target}', 'w') is None"))],
                           "it uses open, which diagrams may not use"),
    }


ATTACKS = ["xxe_file", "xxe_network", "parameter_entity", "external_dtd", "billion_laughs", "quadratic_blowup",
           "huge_text_node", "zip_bomb", "zip_lying_about_its_size", "zip_dot_dot", "zip_absolute", "zip_link",
           "not_bpmn", "script_import", "script_open", "script_eval", "script_subclasses", "condition_globals",
           "condition_import", "condition_open"]


def versions() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(ProcessVersion))


def stored_text() -> str:
    """Everything the database holds that an upload could have put there."""
    db.session.expire_all()
    files = db.session.scalars(select(ProcessVersion.files)).all()
    summaries = db.session.scalars(select(AuditEvent.summary)).all()
    return repr(files) + repr(summaries)


@pytest.mark.parametrize("attack", ATTACKS)
def test_hostile_upload_is_refused_by_the_service_and_the_cli(target_app, attack, secret_file, listener, tmp_path):
    app = target_app
    target = tmp_path / "created-by-the-diagram.bpmn"
    uploads, says = attacks(secret_file, listener, target)[attack]
    _Recorder.requests.clear()
    before = versions()

    try:
        report = check_upload(unpack_upload(uploads))
    except UploadRefused as refused:
        message = str(refused)
    else:
        assert not report.ok
        message = report.as_text()
        if attack.startswith(("xxe", "parameter", "external", "billion", "quadratic")):
            assert report.files == {}  # refused before the XML was read
    assert says in message, message
    assert SECRET not in message

    folder = tmp_path / "upload"
    folder.mkdir()
    paths = []
    for name, data in uploads:
        (folder / name).write_bytes(data)
        paths.append(str(folder / name))
    runner = app.test_cli_runner()
    for command in (["workflows", "check"], ["workflows", "upload", "--activate", "--note", "attack"]):
        result = runner.invoke(args=[*command, *paths])
        assert result.exit_code == 1, result.output
        assert says in result.output and SECRET not in result.output
        assert "refused" in result.output.splitlines()[-1]

    assert versions() == before
    assert db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_id == "hostile")) is None
    assert SECRET not in stored_text()
    assert not target.exists() and not (tmp_path / target.name).exists()
    assert _Recorder.requests == []  # no parser asked the network for anything


@pytest.mark.parametrize("attack", ["xxe_file", "xxe_network", "parameter_entity", "external_dtd", "billion_laughs"])
def test_the_parser_behind_the_declaration_check_resolves_nothing_either(attack, secret_file, listener, tmp_path):
    """Defence in depth: even a DOCTYPE that got past the first check would expand nothing."""
    [(_, data)] = attacks(secret_file, listener, tmp_path / "x")[attack][0]
    _Recorder.requests.clear()
    try:
        root = etree.fromstring(data, xml_parser())
    except etree.XMLSyntaxError:
        root = None
    if root is not None:
        text = etree.tostring(root, encoding="unicode")
        assert SECRET not in text and "lollollol" not in text
    assert _Recorder.requests == []


@pytest.fixture
def silent_server():
    """A port on 127.0.0.1 that accepts connections and never answers: a parser that fetched
    from it would wait for ever."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


def connections(server: socket.socket) -> int:
    """How many connections reached ``server`` (the kernel accepts them for it)."""
    server.setblocking(False)
    count = 0
    while True:
        try:
            connection, _ = server.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1


@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE d SYSTEM "http://127.0.0.1:{port}/evil.dtd">\n',
    '<!DOCTYPE d [<!ENTITY xxe SYSTEM "http://127.0.0.1:{port}/entity">]>\n',
], ids=["external_dtd", "external_entity"])
def test_a_server_that_never_answers_is_never_asked(target_app, silent_server, doctype):
    """The refusal does not wait for the network: nothing connects to the address the diagram names."""
    upload = diagram(doctype.format(port=silent_server.getsockname()[1]), documentation="&xxe;")

    def check():
        report = check_upload({"hostile.bpmn": upload})
        try:
            etree.fromstring(upload, xml_parser())  # the parser behind the check, too
        except etree.XMLSyntaxError:
            pass
        return report

    pool = ThreadPoolExecutor(max_workers=1)
    try:
        report = pool.submit(check).result(timeout=30)  # a fetch from the silent server would never end
    finally:
        pool.shutdown(wait=False)
    assert not report.ok
    assert "a DOCTYPE or entity declaration is not allowed" in report.as_text()
    assert report.files == {}
    assert connections(silent_server) == 0


# --- The CLI with good files ---------------------------------------------------------------------

def test_cli_checks_uploads_and_refuses_to_store_twice(app, tmp_path):
    bpmn, dmn = FIXTURES / "small_travel_claim.bpmn", FIXTURES / "claim_approval_level.dmn"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["workflows", "check", str(bpmn), str(dmn)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "small_travel_claim: 0 errors, 2 warnings: it can be uploaded"
    assert versions() == 4  # checking stored nothing

    result = runner.invoke(args=["workflows", "upload", str(bpmn), str(dmn), "--note", "first upload"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("small_travel_claim: version 1 stored, not active")
    result = runner.invoke(args=["workflows", "upload", str(bpmn), str(dmn), "--activate"])
    assert result.output.splitlines()[-1] == \
        "small_travel_claim: unchanged, version 1 holds these files already"
    assert versions() == 5

    archive = tmp_path / "claim.zip"
    changed = bpmn.read_text().replace("Small travel claim", "Small travel claims")
    archive.write_bytes(zipped({"small_travel_claim.bpmn": changed.encode(), dmn.name: dmn.read_bytes()}))
    result = runner.invoke(args=["workflows", "upload", "--activate", str(archive)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "small_travel_claim: version 2 stored and active"
    db.session.expire_all()
    definition = db.session.scalar(
        select(ProcessDefinition).where(ProcessDefinition.process_id == "small_travel_claim"))
    assert definition.active_version.number == 2 and definition.name == "Small travel claims"


def test_cli_prints_each_error_with_file_line_and_element(app, tmp_path):
    path = tmp_path / "hostile.bpmn"
    path.write_bytes(diagram(condition="${amount.intValue() > 5}"))
    result = app.test_cli_runner().invoke(args=["workflows", "check", str(path)])
    assert result.exit_code == 1
    assert ("ERROR hostile.bpmn:11 f3 (Odd): the JUEL expression ${amount.intValue() > 5} cannot run here: "
            "method calls (.intValue(...)) are not supported; only x.equals(...) and "
            "execution.getVariable('name') can be called") in result.output
    assert result.output.splitlines()[-1].endswith(": it would be refused")
