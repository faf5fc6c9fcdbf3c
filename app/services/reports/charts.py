"""Charts drawn on the server as SVG with pygal, made for everyone: a title and a description
the screen reader reads, no script, and the same figures in a table beside each chart
(templates/reports/_figures.html).

pygal rather than matplotlib: it writes SVG itself (text stays text, axes and bars carry
classes the page's stylesheet colours), it is small and pure Python, and needs neither numpy
nor a font cache. Its inline <style> and <script> are dropped: the pages' Content Security
Policy allows neither, and app.css styles the ``.app-chart`` classes instead.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Mapping

import pygal
from lxml import etree
from markupsafe import Markup

# pygal 3 appends a finder for its map plugins to sys.meta_path, of the old kind (no find_spec):
# every later import that reaches it, such as a library's optional dependency that is absent,
# then raises an ImportWarning. The maps are not used here, so the finder goes.
sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, pygal.PluginImportFixer)]

SVG = "{http://www.w3.org/2000/svg}"
KINDS = {"bar": pygal.Bar, "hbar": pygal.HorizontalBar, "line": pygal.Line, "stacked": pygal.HorizontalStackedBar}
# The GOV.UK colour palette's blue, green, purple, red, dark grey and pink: each at least 4.5:1
# against white, so bars and lines pass WCAG's 3:1 for graphics with room to spare.
COLOURS = ("#1d70b8", "#00703c", "#4c2c92", "#d4351c", "#505a5f", "#912b88")
# pygal lays the chart out for these sizes; app.css draws the text at the same ones.
STYLE = pygal.style.Style(colors=COLOURS, font_family="arial, sans-serif", label_font_size=14,
                          major_label_font_size=14, legend_font_size=14, value_font_size=14, title_font_size=16)


def chart(kind: str, title: str, description: str, series: Mapping[str, Mapping[str, float | None]]) -> Markup:
    """An SVG chart: ``kind`` is bar, hbar (horizontal bars), stacked (horizontal) or line;
    ``series`` maps each series' name to its values by label ({"Started": {"Travel": 12}}).

    ``title`` and ``description`` become the SVG's <title> and <desc>; the description should
    say what the chart shows in words (the biggest, the trend), as the table beside it gives
    every figure.
    """
    labels = list(dict.fromkeys(label for values in series.values() for label in values))
    height = 360  # a line or columns; bars grow with the rows they draw, a legend takes a row
    if kind in {"hbar", "stacked"}:
        height = 120 + 28 * len(labels) * (len(series) if kind == "hbar" else 1)
    drawing = KINDS[kind](
        js=[], disable_xml_declaration=True, no_prefix=True, show_legend=len(series) > 1, legend_at_bottom=True,
        legend_at_bottom_columns=3, width=720, height=height + (30 if len(series) > 1 else 0),
        truncate_label=50, truncate_legend=50, margin=12, include_x_axis=True,
        print_values=kind != "stacked", print_values_position="top", print_zeroes=False,  # stacked: no room
        no_data_text="", style=STYLE)
    drawing.x_labels = labels
    for name, values in series.items():
        drawing.add(name, [values.get(label) for label in labels])
    # Safe as markup: pygal escapes the labels it writes, and lxml the title and description.
    return Markup(_accessible(drawing.render(is_unicode=True), title, description))  # noqa: S704


def _accessible(svg: str, title: str, description: str) -> str:
    """pygal's SVG without style, script and tooltips, named by a <title> and a <desc>."""
    root = etree.fromstring(svg.encode("utf-8"))
    for node in root.xpath("//comment() | //s:script | //s:style | //s:title | //s:desc",
                           namespaces={"s": SVG[1:-1]}):
        node.getparent().remove(node)
    name = f"chart-{uuid.uuid4().hex[:12]}"  # pygal names none with no_prefix
    root.set("id", name)
    heading = etree.Element(f"{SVG}title", id=f"{name}-title")
    heading.text = title
    words = etree.Element(f"{SVG}desc", id=f"{name}-desc")
    words.text = description
    root[0:0] = [heading, words]
    root.set("class", f"{root.get('class', '')} app-chart".strip())
    root.set("role", "img")
    root.set("aria-labelledby", f"{name}-title {name}-desc")
    root.set("focusable", "false")
    return etree.tostring(root, encoding="unicode")
