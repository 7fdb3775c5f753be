"""The promise record: was the promise kept, and whose part failed when it was not.

Pure functions, in the style of networkx: transitions and a period in, figures out.

- :mod:`~servicegraph.record.clock`: instants as whole microseconds, calendar periods
  in an IANA time zone (correct across daylight-saving changes), business hours;
- :mod:`~servicegraph.record.figures`: per node (promise, business service, service
  act) the time kept, at risk and broken, the breaks, time to recover, planned and
  unplanned apart, the budget against a target; per provider, per owner and per
  business service, the roll-ups;
- :mod:`~servicegraph.record.exports`: JSON, CSV, Markdown and HTML.

The figures are defined in the model's documentation (docs/model.md, "The promise
record").
"""

from servicegraph.record.clock import (
    Clock,
    Period,
    Schedule,
    day,
    month,
    period,
    this_month,
    this_week,
    today,
    week,
    zone,
)
from servicegraph.record.exports import BY, MEDIA, document, promise_document, render
from servicegraph.record.figures import (
    NO_CAUSE,
    NO_OWNER,
    Break,
    NodeRecord,
    ProviderShare,
    Record,
    RollUp,
    record,
    share,
    target_of,
)

__all__ = [
    "BY",
    "MEDIA",
    "NO_CAUSE",
    "NO_OWNER",
    "Break",
    "Clock",
    "NodeRecord",
    "Period",
    "ProviderShare",
    "Record",
    "RollUp",
    "Schedule",
    "day",
    "document",
    "month",
    "period",
    "promise_document",
    "record",
    "render",
    "share",
    "target_of",
    "this_month",
    "this_week",
    "today",
    "week",
    "zone",
]
