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
from decimal import Decimal

import pygal
from lxml import etree
from markupsafe import Markup

from forms.text import format_figure, format_money

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
WIDTH = 720  # the chart's own width; the page scales it to its column (app.css), down to a phone's
CHAR = 8.5  # the width of a character at 14 px, about, in arial or the fonts that replace it
LEGEND_ROW = 24  # a legend's row: 14 px text, 1.5 lines apart
MARGIN = 12
ROTATION = 315  # labels that do not fit level rise 45° to the right, each ending at its tick ("Jan 2026")
CENT = Decimal("0.01")


def chart(kind: str, title: str, description: str, series: Mapping[str, Mapping[str, float | None]], *,
          money: bool = False) -> Markup:
    """An SVG chart: ``kind`` is bar, hbar (horizontal bars), stacked (horizontal) or line;
    ``series`` maps each series' name to its values by label ({"Started": {"Travel": 12}});
    ``money``: the values are amounts in EUR, written as money ("473.00 EUR", "473,00 €").

    ``title`` and ``description`` become the SVG's <title> and <desc>; the description should
    say what the chart shows in words (the biggest, the trend), as the table beside it gives
    every figure.
    """
    labels = list(dict.fromkeys(label for values in series.values() for label in values))
    money_or_number = _money if money else _number

    def written(value: float | None) -> str:
        # pygal leaves out the values it is given as "0" (print_zeroes): a bar of nothing.
        return "0" if value == 0 and kind != "line" else money_or_number(value)

    horizontal = kind in {"hbar", "stacked"}
    columns = _legend_columns(list(series), _plot_width(labels, horizontal))
    height = 360  # a line or columns; bars grow with the rows they draw
    if horizontal:
        height = 120 + 28 * len(labels) * (len(series) if kind == "hbar" else 1)
    else:
        height += _below_axis(labels)
    rows = -(-len(series) // columns) if len(series) > 1 else 0
    drawing = KINDS[kind](
        js=[], disable_xml_declaration=True, no_prefix=True, show_legend=len(series) > 1, legend_at_bottom=True,
        legend_at_bottom_columns=columns, width=WIDTH, height=height + LEGEND_ROW * rows,
        # pygal keeps room for len(series) // columns rows of legend: the rest is added below.
        margin=MARGIN, margin_bottom=MARGIN + LEGEND_ROW * max(rows - len(series) // columns, 0),
        truncate_label=-1, truncate_legend=-1, spacing=12, include_x_axis=True,
        # A line's values would cover each other: its points carry them as a title (a tooltip),
        # and the table beside it gives them all. Stacked bars have no room for them.
        print_values=kind in {"bar", "hbar"}, print_values_position="top", print_zeroes=False,
        formatter=written, value_formatter=_axis, style=STYLE, no_data_text="",
        **_x_axis(labels, horizontal), **_headroom(series, written, kind), **_scale(series, labels, horizontal))
    drawing.x_labels = labels
    for name, values in series.items():
        drawing.add(name, [values.get(label) for label in labels])
    # Safe as markup: pygal escapes the labels it writes, and lxml the title and description.
    return Markup(_accessible(drawing.render(is_unicode=True), title, description))  # noqa: S704


def _money(value: float | None) -> str:
    return "" if value is None else format_money(Decimal(str(value)).quantize(CENT))


def _number(value: float | None) -> str:
    return "" if value is None else format_figure(value)


def _axis(value: float) -> str:
    """An axis's graduation, as the page's language writes a number ('6,000', '6 000')."""
    return format_figure(value, 2)


def _plot_width(labels: list[str], horizontal: bool) -> float:
    """About how wide pygal draws the plot, which the legend below it shares: the chart less
    its margins and the labels on its left (names of rows, or the amounts' graduation)."""
    left = max((len(label) for label in labels), default=0) * CHAR if horizontal else 7 * CHAR
    if not horizontal and _x_axis(labels, horizontal):
        left = max(left, _below_axis(labels))  # the first turned label reaches left of the axis
    return WIDTH - 2 * MARGIN - 12 - left


def _legend_columns(names: list[str], width: float) -> int:
    """As many legend columns as the widest name lets fit across the plot (one at least): pygal
    would write a longer name ("Erstattungsfähiger Betrag (EUR)") over the next."""
    widest = max((len(name) for name in names), default=1) * CHAR + STYLE.legend_font_size * 2 + 12
    return max(1, min(len(names), 3, int(width // widest)))


def _x_axis(labels: list[str], horizontal: bool) -> dict:
    """Labels along the bottom (months): turned when they would not fit side by side, and
    only every n-th written when even turned ones would touch (each is in the table)."""
    if horizontal or not labels:
        return {}
    room = (WIDTH - 120) / len(labels)
    if room >= max(len(label) for label in labels) * CHAR + 12:
        return {}
    every = max(1, -(-STYLE.label_font_size * 2 // max(int(room), 1)))
    return {"x_label_rotation": ROTATION, "x_labels_major_every": every, "show_minor_x_labels": every == 1}


def _below_axis(labels: list[str]) -> int:
    """The height turned labels take below the axis, more than level ones."""
    if not labels or not _x_axis(labels, False):
        return 0
    return int(max(len(label) for label in labels) * CHAR * 0.71)


def _headroom(series: Mapping[str, Mapping[str, float | None]], written, kind: str) -> dict:
    """Room right of the longest bar for the value written after it ("12,345.00 EUR"),
    which pygal would draw past the chart's edge."""
    if kind != "hbar":
        return {}
    values = [value for values in series.values() for value in values.values() if value]
    if not values:
        return {}
    top = max(values)
    longest = max(len(written(value)) for value in values) * CHAR + 16
    plot = WIDTH - 24 - max(len(label) for values in series.values() for label in values) * CHAR
    share = min(longest / max(plot - longest, 1), 1.5)
    return {"range": (0, top * (1 + share))}


def _scale(series: Mapping[str, Mapping[str, float | None]], labels: list[str], horizontal: bool) -> dict:
    """No more graduations than fit side by side under horizontal bars ("1.600" in German is
    as wide as "1,600"): pygal's own count would write them over each other."""
    if not horizontal:
        return {}
    top = max((value for values in series.values() for value in values.values() if value), default=1)
    fits = int(_plot_width(labels, horizontal) // (len(_axis(top * 2)) * CHAR + 24))
    return {"min_scale": max(2, min(4, fits)), "max_scale": max(2, fits)}


def _accessible(svg: str, title: str, description: str) -> str:
    """pygal's SVG without style and script, named by a <title> and a <desc>; each point or
    bar keeps its value as a <title> (the browser's tooltip) rather than pygal's script's."""
    root = etree.fromstring(svg.encode("utf-8"))
    namespaces = {"s": SVG[1:-1]}
    for value in root.xpath("//s:desc[@class='value']", namespaces=namespaces):
        shape = value.getprevious()
        label = value.getparent().xpath("s:desc[@class='x_label']", namespaces=namespaces)
        if shape is not None and value.text:
            tip = etree.SubElement(shape, f"{SVG}title")
            tip.text = f"{label[0].text}: {value.text}" if label and label[0].text else value.text
    for node in root.xpath("//comment() | //s:script | //s:style | /s:svg/s:title | //s:desc",
                           namespaces=namespaces):
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
