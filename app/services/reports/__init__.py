"""Reports: figures for the secretariat and the Commission, as charts, tables and downloads.

Every figure comes from aggregate queries over indexed columns of the request, task and
history rows: no workflow is loaded. ``filters`` holds what every report is narrowed by
(the period, process, version, group and organisation), ``charts`` draws a chart as
accessible SVG, ``tables`` holds a report's table and its CSV and Excel downloads, ``access``
says who sees which report. One module per report: ``flow`` (where the time goes).
"""

from .access import may_see_flow, may_see_reports
from .charts import chart
from .filters import FilterSpec, default_period, filter_choices, instance_conditions
from .flow import FlowReport, flow_report
from .tables import FORMATS, Table, download

__all__ = [
    "FORMATS", "FilterSpec", "FlowReport", "Table", "chart", "default_period", "download", "filter_choices",
    "flow_report", "instance_conditions", "may_see_flow", "may_see_reports",
]
