"""Check the .dmn files of an upload: one decision table each, with cells that compile."""

from __future__ import annotations

from lxml import etree

from app.engine.validate import DMN_HIT_POLICIES, DMN_NAMESPACES, dmn_input_problems

from .report import _TOO_MUCH_CODE, _compiled, _Findings


def _check_dmn_files(roots: dict[str, etree._Element], found: _Findings) -> dict[str, str]:
    """Check each .dmn file; return its decision ids and the file each comes from."""
    decisions: dict[str, str] = {}
    for name, root in roots.items():
        namespace = etree.QName(root).namespace
        if etree.QName(root).localname != "definitions" or namespace not in DMN_NAMESPACES:
            found.error(name, f"not a DMN file: it starts with <{etree.QName(root).localname}> in "
                        f"{namespace or 'no namespace'}; DMN 1.1 to 1.3 (Camunda Modeler) are read",
                        line=root.sourceline)
            continue
        d = f"{{{namespace}}}"
        found_decisions = root.findall(f"{d}decision")
        clash = False
        for decision in found_decisions:  # every decision of every file, even one refused below
            decision_id = decision.get("id") or ""
            if decision_id in decisions:
                found.error(name, f"the decision {decision_id} is also in {decisions[decision_id]}", decision)
                clash = True
            else:
                decisions[decision_id] = name
        if len(found_decisions) != 1:
            found.error(name, f"a .dmn file must hold exactly one decision ({len(found_decisions)} found): "
                        "put each decision in its own file", line=root.sourceline)
            continue
        if clash:
            continue
        decision = found_decisions[0]
        tables = decision.findall(f"{d}decisionTable")
        if len(tables) != 1:
            found.error(name, "the decision must be one decision table (literal expressions and "
                        "requirements graphs are not supported)", decision)
            continue
        _check_table(name, tables[0], d, found)
    return decisions


def _check_table(name: str, table: etree._Element, d: str, found: _Findings) -> None:
    policy = (table.get("hitPolicy") or "UNIQUE").upper()
    if policy not in DMN_HIT_POLICIES:
        found.error(name, f"the hit policy {policy} is not supported: use UNIQUE, FIRST, ANY or COLLECT", table)
    if table.get("aggregation"):
        found.error(name, f"COLLECT with {table.get('aggregation')} is not supported: use COLLECT without an "
                    "aggregation and add up the list in a script task", table)
    inputs = []
    for column in table.findall(f"{d}input"):
        expression = column.find(f"{d}inputExpression")
        text_node = expression.find(f"{d}text") if expression is not None else None
        text = (text_node.text or "").strip() if text_node is not None else ""
        _check_language(name, expression, found)
        if not text:
            found.error(name, "the input column has no input expression", column)
        else:
            for problem in _compiled(found, text):
                found.error(name, f"the input expression cannot run: {problem}", column)
        inputs.append(text)
    outputs = table.findall(f"{d}output")
    for column in outputs:
        if not (column.get("name") or "").strip():
            found.error(name, "the output column has no name: its value would have no variable to go into",
                        column)
    for rule in table.findall(f"{d}rule"):
        entries = rule.findall(f"{d}inputEntry")
        results = rule.findall(f"{d}outputEntry")
        if len(entries) != len(inputs) or len(results) != len(outputs):
            found.error(name, "the rule does not have one cell per column", rule)
            continue
        for entry, expression in zip(entries, inputs, strict=True):
            _check_language(name, entry, found)
            cell = entry.find(f"{d}text")
            if expression:
                text = cell.text if cell is not None else None
                problems = dmn_input_problems(expression, text) if found.code_budget(text) else [_TOO_MUCH_CODE]
                for problem in problems:
                    found.error(name, f"the input cell cannot run: {problem}", entry)
        for entry in results:
            _check_language(name, entry, found)
            cell = entry.find(f"{d}text")
            text = (cell.text or "").strip() if cell is not None else ""
            if text:
                for problem in _compiled(found, text):
                    found.error(name, f"the output cell cannot run: {problem}", entry)


def _check_language(name: str, node: etree._Element | None, found: _Findings) -> None:
    language = (node.get("expressionLanguage") or "").strip().lower() if node is not None else ""
    if language and language not in ("python", "feel", "juel"):
        found.error(name, f"the expression language {language} is not supported: cells are Python", node)
