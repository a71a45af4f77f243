"""CloudWatch quotas the observability constructs design around, defined once with their sources.

Sources (looked up, not guessed):

* ``PutMetricAlarm.Period`` in the pinned botocore CloudWatch model: period 10, 20, 30 or a multiple of
  60 s; ``Period x EvaluationPeriods`` at most 604,800 s (7 days), and at most 86,400 s (1 day) when
  the period is shorter than one hour.
* CloudWatch service quotas (user guide, "CloudWatch service quotas"): up to 500 widgets per dashboard;
  up to 500 metrics per dashboard widget and 2,500 per dashboard across all widgets (older revisions
  of the same page said 100 and 500). The metric quotas count every metric fetched for metric math,
  displayed or not. Alarms based on metric math expressions can use up to 10 metrics.
* ``PutMetricAlarm``/``PutCompositeAlarm``: ``AlarmName`` 1-255 characters, ``AlarmDescription``
  at most 1,024; at most 5 actions per state.
* No quota on the *size* of a ``DashboardBody`` is documented (API reference, CloudFormation
  resource schema); the binding byte limit is CloudFormation's template size (1 MB via S3).

The split limits below use the stricter of the documented revisions, so a dashboard that fits them
fits both.
"""

from __future__ import annotations

MAX_WIDGETS_PER_DASHBOARD = 500
MAX_METRICS_PER_WIDGET = 100  # current quota 500; the older, stricter revision
MAX_METRICS_PER_DASHBOARD = 500  # current quota 2,500; the older, stricter revision
MAX_METRICS_PER_ALARM = 10
MAX_ALARM_NAME = 255
MAX_ALARM_DESCRIPTION = 1024
MAX_EVALUATION_SECONDS = 604_800  # 7 days, for periods of one hour or more
MAX_EVALUATION_SECONDS_SHORT_PERIOD = 86_400  # 1 day, for periods under one hour
MAX_DASHBOARD_NAME = 255
# The alarm status widget lists alarms; keep each one short enough to read on one screen.
MAX_ALARMS_PER_STATUS_WIDGET = 100
CLOUDFORMATION_TEMPLATE_BYTES = 1_000_000


def valid_alarm_window(period_seconds: int, evaluation_periods: int) -> bool:
    """True when CloudWatch accepts this period and number of evaluation periods for an alarm."""
    if period_seconds not in (10, 20, 30) and period_seconds % 60:
        return False
    total = period_seconds * evaluation_periods
    limit = MAX_EVALUATION_SECONDS if period_seconds >= 3600 else MAX_EVALUATION_SECONDS_SHORT_PERIOD
    return evaluation_periods >= 1 and total <= limit
