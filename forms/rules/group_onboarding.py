"""Group onboarding: an applicant picks an existing working group or proposes a new sector.

The start form offers both as optional fields so that the diagram can branch on which one
was given (``not working_group_id`` leads to the new-sector path); this rule makes sure
exactly one of them is filled in.
"""

from __future__ import annotations

from typing import Any

from . import rule


@rule("group_onboarding.start")
def one_group_or_sector(data: dict[str, Any]) -> dict[str, str]:
    """Require either a working group or a new sector proposal, not both and not neither."""
    group = data.get("working_group_id")
    proposal = (data.get("new_sector_proposal") or "").strip()
    if group in (None, "") and not proposal:
        return {"working_group_id": "Select a working group, or describe a new sector below"}
    if group not in (None, "") and proposal:
        return {"new_sector_proposal": "Either select a working group or propose a new sector, not both"}
    return {}
