"""Text for people that is not marked for translation: `make lint` fails on it.

Templates are read with Jinja's own parser: the literal text between tags outside
``{% trans %}`` blocks, the ``aria-label``, ``title``, ``alt`` and ``placeholder`` attributes and a
button's ``value``, and sentence-like string constants printed or set (``{{ 'Success' if … }}``).
Python is read with ``ast``: the literal strings given to ``flash()``, ``abort(…, description)``,
``ValidationError``, the app's ``ServiceError`` family, WTForms fields (label, ``description``,
``choices``) and validators (``message``). A string is marked when it is the argument of
``_``, ``_l``, ``gettext``, ``lazy_gettext``, ``ngettext`` or ``lazy_ngettext``.

Opt-out, for text that is not for people or needs no translation (a product name): a Jinja
comment ``{# no-i18n: why #}`` or a Python comment ``# no-i18n: why`` on the line. Files not
yet marked are listed in tests/i18n_todo.txt, one path a line, and skipped until marked.

Run: ``python -m tests.i18n_lint`` (from the project's root), or with paths to check only those.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from collections.abc import Iterator
from html import unescape
from pathlib import Path

from jinja2 import Environment, nodes

ROOT = Path(__file__).resolve().parent.parent
TODO = ROOT / "tests" / "i18n_todo.txt"
OPT_OUT = "no-i18n"
MARKERS = {"_", "_l", "gettext", "lazy_gettext", "ngettext", "lazy_ngettext", "pgettext", "lazy_pgettext"}
LETTER = re.compile(r"[^\W\d_]")
ATTRIBUTES = {"aria-label", "title", "alt", "placeholder"}
ATTRIBUTE = re.compile(r'([\w:-]+)\s*=\s*"([^"]*)"')
HOLE = "\x00"  # where a Jinja expression or tag stood between two pieces of literal text
RAW_ELEMENTS = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->", re.S | re.I)
# Python: calls whose literal text people read, and where that text is.
FLASH, ERRORS = {"flash"}, {"ValidationError", "ServiceError", "NotAllowed", "TaskUnavailable", "InvalidData"}
VALIDATORS = {"DataRequired", "InputRequired", "Length", "Email", "EqualTo", "NumberRange", "Regexp", "AnyOf",
              "NoneOf", "URL"}

Problem = tuple[str, int, str]  # path, line, the text


def has_words(text: str) -> bool:
    return bool(LETTER.search(unescape(text)))


def sentence_like(text: str) -> bool:
    """A constant that reads as words for people ('Success', 'An email'), not a key ('each')."""
    text = text.strip()
    return has_words(text) and (" " in text or text[:1].isupper())


# --- templates -------------------------------------------------------------------------------

def opted_out_lines(env: Environment, source: str) -> set[int]:
    return {line for line, kind, value in env.lex(source) if kind == "comment" and OPT_OUT in value}


def _printed_constants(node: nodes.Node) -> Iterator[nodes.Const]:
    """String constants an expression prints as they are (not a gettext call's argument)."""
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        yield node
    elif isinstance(node, nodes.CondExpr):
        yield from _printed_constants(node.expr1)
        if node.expr2 is not None:
            yield from _printed_constants(node.expr2)
    elif isinstance(node, nodes.Concat):
        for part in node.nodes:
            yield from _printed_constants(part)
    elif isinstance(node, nodes.Add):
        yield from _printed_constants(node.left)
        yield from _printed_constants(node.right)
    elif isinstance(node, nodes.Filter) and node.node is not None:
        yield from _printed_constants(node.node)
    elif isinstance(node, nodes.Tuple | nodes.List):
        for item in node.items:
            yield from _printed_constants(item)
    elif isinstance(node, nodes.Call) and not (isinstance(node.node, nodes.Name) and node.node.name in MARKERS):
        for argument in [*node.args, *(keyword.value for keyword in node.kwargs)]:  # a macro's label
            yield from _printed_constants(argument)


def check_template(path: str, source: str, env: Environment) -> list[Problem]:
    skip = opted_out_lines(env, source)
    problems: list[Problem] = []
    pieces: list[tuple[int, str]] = []  # literal text in the order written, a hole where anything else stood

    def constants(expression: nodes.Node) -> None:
        for const in _printed_constants(expression):
            if sentence_like(const.value) and const.lineno not in skip:
                problems.append((path, const.lineno, const.value))

    def walk(node: nodes.Node) -> None:
        if isinstance(node, nodes.Output):
            pieces.append((node.lineno, HOLE))  # text before it may belong to another branch
            for child in node.nodes:
                if isinstance(child, nodes.TemplateData):
                    pieces.append((child.lineno, child.data))
                else:
                    pieces.append((child.lineno, HOLE))
                    constants(child)
            return
        if isinstance(node, nodes.Assign):
            constants(node.node)
        elif isinstance(node, nodes.For):
            constants(node.iter)
        pieces.append((node.lineno, HOLE))
        for child in node.iter_child_nodes():
            walk(child)
        pieces.append((node.lineno, HOLE))

    walk(env.parse(source))
    for line, text in _text_of(pieces, path.endswith((".html", ".htm"))):
        if has_words(text) and line not in skip:
            problems.append((path, line, " ".join(text.split())))
    return problems


def _text_of(pieces: list[tuple[int, str]], html: bool) -> Iterator[tuple[int, str]]:
    """(line, text) of what people read: text between tags, and the attributes they read."""
    joined, lines = "", []  # the line each character of ``joined`` is on
    for lineno, data in pieces:
        lineno = lineno or (lines[-1] if lines else 1)  # a node the parser made has none
        joined += data
        for char in data:
            lines.append(lineno)
            lineno += char == "\n"
    if not html:
        yield from _runs(joined, lines, 0, len(joined))
        return
    joined = RAW_ELEMENTS.sub(lambda m: HOLE * len(m.group(0)), joined)
    position = 0
    for tag in re.finditer(r"<[^<>]*>", joined):
        yield from _runs(joined, lines, position, tag.start())
        position = tag.end()
        content = tag.group(0)
        for name, value in ATTRIBUTE.findall(content):
            readable = name.lower() in ATTRIBUTES or (
                name.lower() == "value" and re.match(r"<(button|input[^>]*type=\"(submit|button|reset)\")", content))
            if readable:
                for piece in value.split(HOLE):
                    if has_words(piece):
                        yield lines[tag.start()], piece
    yield from _runs(joined, lines, position, len(joined))


def _runs(joined: str, lines: list[int], start: int, end: int) -> Iterator[tuple[int, str]]:
    offset = start
    for piece in joined[start:end].split(HOLE):
        if piece.strip():
            yield lines[offset + len(piece) - len(piece.lstrip())], piece
        offset += len(piece) + 1


# --- Python ----------------------------------------------------------------------------------

def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _unmarked(node: ast.expr | None) -> bool:
    """Literal text not passed through gettext: a string, an f-string, or built from them."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and has_words(node.value)
    if isinstance(node, ast.JoinedStr):
        return any(_unmarked(value) for value in node.values)
    if isinstance(node, ast.BinOp):
        return _unmarked(node.left) or (isinstance(node.op, ast.Add) and _unmarked(node.right))
    if isinstance(node, ast.IfExp):
        return _unmarked(node.body) or _unmarked(node.orelse)
    return False


def _texts(call: ast.Call) -> Iterator[ast.expr]:
    """The arguments of ``call`` that people read."""
    name = _name(call.func)
    keywords = {keyword.arg: keyword.value for keyword in call.keywords}
    if name in FLASH | ERRORS:
        yield from call.args[:1]
        if name == "InvalidData" and call.args and isinstance(call.args[0], ast.List | ast.Tuple):
            for pair in call.args[0].elts:  # [("field", "message"), …]
                if isinstance(pair, ast.Tuple) and len(pair.elts) == 2:
                    yield pair.elts[1]
    elif name == "abort":
        yield from call.args[1:2]
        if "description" in keywords:
            yield keywords["description"]
    elif name in VALIDATORS:
        yield from call.args[:1] if name in ("DataRequired", "InputRequired", "Email") else []
        if "message" in keywords:
            yield keywords["message"]
    elif name.endswith("Field") and name[:1].isupper():
        yield from call.args[:1]
        for key in ("label", "description"):
            if key in keywords:
                yield keywords[key]
        choices = keywords.get("choices")
        if isinstance(choices, ast.List | ast.Tuple):
            for pair in choices.elts:
                if isinstance(pair, ast.Tuple) and len(pair.elts) == 2:
                    yield pair.elts[1]


def check_python(path: str, source: str) -> list[Problem]:
    tree = ast.parse(source)
    skip = {token.start[0] for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type == tokenize.COMMENT and OPT_OUT in token.string}
    problems: list[Problem] = []
    for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
        if _name(call.func) in MARKERS:
            continue
        for text in _texts(call):
            if _unmarked(text) and not skip & set(range(call.lineno, (call.end_lineno or call.lineno) + 1)):
                problems.append((path, text.lineno, ast.unparse(text)))
    return problems


# --- the run ---------------------------------------------------------------------------------

def to_do() -> set[str]:
    if not TODO.exists():
        return set()
    lines = (line.split("#", 1)[0].strip() for line in TODO.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line}


def checked_files() -> list[Path]:
    files = [*sorted((ROOT / "app").rglob("*.py")), *sorted((ROOT / "forms").rglob("*.py"))]
    files += [path for path in sorted((ROOT / "templates").rglob("*")) if path.suffix in (".html", ".txt")]
    return files


def check(paths: list[Path]) -> list[Problem]:
    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)  # only parsed, never rendered
    problems: list[Problem] = []
    for path in paths:
        name = path.resolve().relative_to(ROOT).as_posix()
        source = path.read_text(encoding="utf-8")
        problems += check_python(name, source) if path.suffix == ".py" else check_template(name, source, env)
    return problems


def main(argv: list[str]) -> int:
    todo = to_do()
    paths = [Path(arg).resolve() for arg in argv] or [
        path for path in checked_files() if path.relative_to(ROOT).as_posix() not in todo]
    problems = check(paths)
    for path, line, text in problems:
        print(f"{path}:{line}: not marked for translation: {text[:100]!r}")
    if problems:
        print(f"{len(problems)} texts for people are not marked for translation: wrap them in _() "
              f"(templates: {{{{ _('…') }}}} or {{% trans %}}), or say why not with a '{OPT_OUT}' comment.")
        return 1
    print(f"Every text for people is marked for translation ({len(todo)} files still to do in tests/i18n_todo.txt).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
