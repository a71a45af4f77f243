"""Service level objectives and multi-window, multi-burn-rate alarms (Google SRE workbook, "Alerting on SLOs").

A burn rate is how fast the error budget of a 30-day SLO is spent: 1 spends it exactly in 30 days.
Each tier alarms when *both* a long window (is it significant?) and a short window (is it still
happening?) burn faster than the tier's rate. CloudWatch cannot mix periods in one alarm, so each
window is a metric alarm whose period is the window, and the tier is a composite alarm (AND); the
tier notifies, or (``AlarmFactory(page_once=True)``, as ``EndpointMonitoring`` does) its severity's
rollup composite notifies for it. Low traffic: a window counts only with enough requests (see
``ServiceLevelObjective.min_requests``).

CloudWatch limits (botocore ``PutMetricAlarm.Period``): period x evaluation periods <= 1 day for
periods under an hour and <= 7 days otherwise; every window below is one period of its own length,
so 5 min ... 3 days are all valid.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

from ..errors import Problems
from .alarms import AlarmFactory, Datapoints, Severity

SLO_PERIOD_DAYS = 30


@dataclass(frozen=True)
class ServiceLevelObjective:
    """What an endpoint promises over 30 days.

    :param availability_percent: share of requests answered without 5XX, e.g. ``99.9``; default none.
    :param latency_ms: with ``latency_percentile``: that share of requests has ``ModelLatency`` at or
        under this many milliseconds; default none.
    :param latency_percentile: default 99 (99 % of requests within ``latency_ms``).
    :param min_requests: low-traffic guard (SRE workbook, "Alerting on SLOs", low-traffic services): a
        burn-rate window counts only with at least this many requests. Default: per paging (critical)
        tier, the fewest requests at which one bad request alone stays under the tier's burn rate
        (at 12 requests an hour one 5XX is 8.3 %, 58x a 99.9 % budget); ticket (warning) tiers
        unguarded, since a single failure there is a real share of the 30-day budget.

    The latency objective covers ``ModelLatency`` (time spent in the model container), not
    ``OverheadLatency`` (SageMaker's own time around it).
    """

    availability_percent: float | None = None
    latency_ms: int | None = None
    latency_percentile: float = 99.0
    min_requests: int | None = None

    def min_requests_for(self, tier: BurnRateTier, budget: float) -> int:
        """Requests a window of ``tier`` needs before its burn rate counts (see ``min_requests``)."""
        if self.min_requests is not None:
            return self.min_requests
        if tier.severity is not Severity.CRITICAL:
            return 0
        return math.floor(1 / (tier.burn_rate * budget)) + 1

    def validate(self, where: str) -> None:
        p = Problems(where)
        self.check(p)
        p.raise_if_any()

    def check(self, p: Problems) -> None:
        """Record this objective's problems in ``p`` (paths ``slo.<field>``)."""
        p.check(
            self.availability_percent is not None or self.latency_ms is not None, "slo", None,
            "availability_percent, latency_ms or both",
        )
        if self.availability_percent is not None:
            p.check(0 < self.availability_percent < 100, "slo.availability_percent", self.availability_percent,
                    "a percentage between 0 and 100, exclusive (e.g. 99.9)")
        if self.latency_ms is not None:
            p.check(self.latency_ms >= 1, "slo.latency_ms", self.latency_ms, ">= 1")
        p.check(0 < self.latency_percentile < 100, "slo.latency_percentile", self.latency_percentile,
                "a percentile between 0 and 100, exclusive (e.g. 99)")
        if self.min_requests is not None:
            p.check(self.min_requests >= 1, "slo.min_requests", self.min_requests, ">= 1 request per window")


@dataclass(frozen=True)
class BurnRateTier:
    """One alerting tier: alarm when the burn rate exceeds ``burn_rate`` over ``long_window`` and ``short_window``."""

    name: str
    long_window: Duration
    short_window: Duration
    burn_rate: float
    severity: Severity
    budget_percent: float  # share of the 30-day error budget spent when the long window fires

    def windows(self) -> tuple[tuple[str, Duration], tuple[str, Duration]]:
        return (("long", self.long_window), ("short", self.short_window))


# SRE workbook, table "Recommended parameters": page on 2 % of the budget in 1 h or 5 % in 6 h,
# ticket on 10 % in 3 days; short windows are 1/12 of the long ones.
SRE_WORKBOOK_TIERS = (
    BurnRateTier("1h", Duration.hours(1), Duration.minutes(5), 14.4, Severity.CRITICAL, 2),
    BurnRateTier("6h", Duration.hours(6), Duration.minutes(30), 6, Severity.CRITICAL, 5),
    BurnRateTier("3d", Duration.days(3), Duration.hours(6), 1, Severity.WARNING, 10),
)


def burn_rate_alarms(
    factory: AlarmFactory,
    *,
    sli: str,
    objective: str,
    budget: float,
    bad_ratio: Callable[[Duration, int], cw.IMetric],
    look_first_at: str,
    tiers: tuple[BurnRateTier, ...] = SRE_WORKBOOK_TIERS,
    signal_suffix: str = "",
    min_requests: Callable[[BurnRateTier], int] = lambda tier: 0,
) -> list[cw.CompositeAlarm]:
    """For each tier, two window alarms on ``bad_ratio(window) / budget`` and the composite that notifies.

    :param sli: ``availability`` or ``latency``: names the alarms ``<prefix>-<sli>-burn-<tier>-<severity>``.
    :param budget: allowed bad share, e.g. 0.001 for 99.9 %.
    :param bad_ratio: the bad share (0-1) over a window, as metric math with that window as period,
        0 when the window had fewer requests than the second argument.
    :param min_requests: the low-traffic guard of a tier (requests per window; 0: none).
    """
    composites = []
    for tier in tiers:
        signal = f"{sli}{signal_suffix}-burn-{tier.name}"
        inputs = []
        for _, window in tier.windows():
            span = _span(window)
            burn = cw.MathExpression(
                expression=f"ratio / {budget:.10g}", using_metrics={"ratio": bad_ratio(window, min_requests(tier))},
                label=f"{sli} burn rate over {span}", period=window,
            )
            inputs.append(
                factory.metric_alarm(
                    signal=signal, severity=tier.severity, metric=burn, threshold=tier.burn_rate,
                    comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    datapoints=Datapoints(period=window, evaluation_periods=1, datapoints_to_alarm=1),
                    summary=f"{objective}: error budget burning faster than {tier.burn_rate:g}x over {span} "
                            f"(input of {factory.name(signal, tier.severity)}).",
                    look_first_at=look_first_at, notify=False, name_suffix=f"-{span}",
                )
            )
        composites.append(
            factory.composite_alarm(
                signal=signal, severity=tier.severity,
                rule=cw.AlarmRule.all_of(*inputs),
                summary=(
                    f"{objective}: error budget burning faster than {tier.burn_rate:g}x over both "
                    f"{_span(tier.long_window)} and {_span(tier.short_window)} ({tier.budget_percent:g} % of the "
                    f"{SLO_PERIOD_DAYS}-day budget spent in {_span(tier.long_window)})."
                ),
                look_first_at=look_first_at, inputs=inputs,
            )
        )
    return composites


def _span(d: Duration) -> str:
    seconds = int(d.to_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
