"""Cross-field rules of the expert request forms (process ``expert_request``)."""

from __future__ import annotations

from typing import Any

from . import rule


@rule("expert_request.start")
@rule("expert_request.revise_request")
def name_other_topic(data: dict[str, Any]) -> dict[str, str]:
    """Require a name for the topic when the requester chose "Other"."""
    if data.get("topic") == "other" and not (data.get("topic_other") or "").strip():
        return {"topic_other": "Enter the topic, as you selected Other"}
    return {}
