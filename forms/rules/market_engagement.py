"""Market engagement event: the total of the budget lines, shown read-only to the lead.

The start form and ``revise_event`` both show ``budget_total`` with
``computed=market_engagement_budget_total``. The diagram's ``compute_budget_total`` script
adds the same lines again on the server, and only that value reaches the sign-off gateway.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import computation

BUDGET_FIELDS = ("budget_venue", "budget_catering", "budget_interpretation")
CENT = Decimal("0.01")


@computation("market_engagement_budget_total", inputs=BUDGET_FIELDS)
def market_engagement_budget_total(data: dict[str, Any]) -> Decimal:
    """Venue + catering + interpretation, in EUR to the cent; empty counts as 0."""
    total = sum((Decimal(str(data.get(name) or 0)) for name in BUDGET_FIELDS), Decimal(0))
    return total.quantize(CENT)
