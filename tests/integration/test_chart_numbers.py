"""Issue 13: the figures a chart writes on its bars and along its axis read as the page's language
writes numbers (forms/text.py), as the table beside it does."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from app.services.reports.charts import chart

SERIES = {"Claimed": {"Travel": 2000, "Meetings": 2.5, "Events": 12345.5}}
NARROW = "\u202f"  # French groups thousands with a narrow no-break space


def written(kind: str, language: str) -> list[str]:
    """The texts of the chart's SVG that hold a digit: bar values, graduations, tooltips."""
    with force_locale(language):
        svg = str(chart(kind, "Claimed", "What was claimed", SERIES))
    return re.findall(r">([^<>]*\d[^<>]*)<", svg)


@pytest.mark.parametrize("kind", ["bar", "hbar", "line", "stacked"])
@pytest.mark.parametrize(("language", "thousands", "half", "english"), [
    ("fr", f"2{NARROW}000", "2,5", ("2,000", "2.5", "12,345.5")),
    ("de", "2.000", "2,5", ("2,000", "2.5", "12,345.5")),
    ("en", "2,000", "2.5", ("2.000", "2,5", "12.345,5")),
])
def test_a_charts_values_and_graduations_use_the_pages_separators(app, kind, language, thousands, half, english):
    with app.test_request_context():
        texts = written(kind, language)
    assert any(text.endswith(thousands) for text in texts), texts  # a bar's value or its tooltip
    assert any(text.endswith(half) for text in texts), texts
    graduations = [text for text in texts if ":" not in text]
    assert any(len(text) > 3 and not text.isdigit() for text in graduations), graduations  # "10 000" grouped
    for wrong in english:
        assert not any(wrong in text for text in texts), (wrong, texts)
