"""Severities and the one alarm factory every monitoring construct uses.

The factory applies, for every alarm: the name ``<prefix>-<signal>-<severity>``, a description that
ends with a runbook line (``Look first at: ...``), the datapoints policy, missing-data handling, and
the action (alarm and OK notifications to the severity's topic). Monitoring constructs only decide
*what* to watch and at which thresholds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..compliance import acknowledge
from ..errors import Problems
from . import _quotas


class Severity(str, Enum):
    """How urgently a person must act: ``CRITICAL`` pages now, ``WARNING`` is looked at in working hours."""

    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class SeverityThresholds:
    """One signal's thresholds keyed by severity; ``None`` switches that severity off."""

    warning: float | None = None
    critical: float | None = None

    def items(self) -> list[tuple[Severity, float]]:
        """``(severity, threshold)`` for the severities that are on, warning first."""
        pairs = ((Severity.WARNING, self.warning), (Severity.CRITICAL, self.critical))
        return [(s, t) for s, t in pairs if t is not None]


# Severity -> topic that receives its alarm and OK notifications.
AlarmRouting = Mapping[Severity, sns.ITopic]


_ONE_MINUTE = Duration.minutes(1)


@dataclass(frozen=True)
class Datapoints:
    """Evaluation window of a metric alarm: ``datapoints_to_alarm`` breaching out of ``evaluation_periods``
    periods of ``period`` each (``period`` overrides the metric's own)."""

    period: Duration = _ONE_MINUTE
    evaluation_periods: int = 3
    datapoints_to_alarm: int = 2


class AlarmFactory:
    """Creates named, described, routed alarms under ``scope``.

    :param prefix: first part of every alarm name (an endpoint or cluster name).
    :param routing: severity -> topic; default none: alarms without actions (the caller routes them).
    :param page_once: default False: every alarm notifies its severity's topic. True: no alarm gets an
        action when created; :meth:`rollup` then creates, per severity, the one composite alarm that
        notifies (ALARM while any of them is), so one incident notifies each severity's topic once
        however many of its alarms it trips. (A composite's ``ActionsSuppressor`` would only silence
        the composite itself while another alarm is in ALARM, not the alarms under it.)
    """

    def __init__(
        self, scope: Construct, *, prefix: str, routing: AlarmRouting | None = None, page_once: bool = False
    ) -> None:
        self.scope = scope
        self.prefix = prefix
        self.routing = dict(routing or {})
        self.page_once = page_once
        self.alarms: list[cw.AlarmBase] = []
        # Metric alarms that only feed a composite alarm (no action of their own).
        self.inputs: list[cw.Alarm] = []
        # Alarms whose state a rollup composite notifies (page_once), by severity.
        self.rolled_up: dict[Severity, list[cw.AlarmBase]] = {}
        # Keyed by the alarm object's identity (the lists above keep each one alive): a key read from
        # the construct tree (``node.path``) costs two jsii round-trips per lookup.
        self._severity: dict[int, Severity] = {}
        self._names: dict[int, str] = {}

    def name(self, signal: str, severity: Severity) -> str:
        return f"{self.prefix}-{signal}-{severity.value}"

    def name_of(self, alarm: cw.AlarmBase) -> str:
        """The fixed name this factory gave ``alarm`` (one it created, not an adopted one): another stack
        can show the alarm by name (``cw.Alarm.from_alarm_name``) without importing a value from this one."""
        return self._names[id(alarm)]

    def metric_alarm(
        self,
        *,
        signal: str,
        severity: Severity,
        metric: cw.IMetric,
        threshold: float,
        comparison: cw.ComparisonOperator,
        datapoints: Datapoints,
        summary: str,
        look_first_at: str,
        treat_missing_data: cw.TreatMissingData = cw.TreatMissingData.NOT_BREACHING,
        notify: bool = True,
        name_suffix: str = "",
    ) -> cw.Alarm:
        """A metric alarm; ``notify=False`` only for alarms that feed a composite alarm which notifies."""
        name = self.name(signal, severity) + name_suffix
        self._check(name, datapoints)
        alarm = cw.Alarm(
            self.scope,
            _construct_id(signal, severity.value, name_suffix),
            alarm_name=name,
            alarm_description=self._description(summary, look_first_at),
            metric=_with_period(metric, datapoints.period),
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=datapoints.evaluation_periods,
            datapoints_to_alarm=datapoints.datapoints_to_alarm,
            treat_missing_data=treat_missing_data,
        )
        if not notify:
            self.inputs.append(alarm)
        elif self.page_once:
            self.rolled_up.setdefault(severity, []).append(alarm)
        else:
            self._route(alarm, severity)
        self._record(alarm, severity, name)
        return alarm

    def composite_alarm(
        self,
        *,
        signal: str,
        severity: Severity,
        rule: cw.IAlarmRule,
        summary: str,
        look_first_at: str,
        inputs: list[cw.Alarm] | None = None,
        route: bool = True,
    ) -> cw.CompositeAlarm:
        """A composite alarm, routed like the others. ``inputs``: metric alarms that exist only to
        feed this one; they carry no action of their own, which is acknowledged on each of them."""
        name = self.name(signal, severity)
        self._check(name, None)
        alarm = cw.CompositeAlarm(
            self.scope,
            _construct_id(signal, severity.value, ""),
            composite_alarm_name=name,
            alarm_description=self._description(summary, look_first_at),
            alarm_rule=rule,
        )
        if not route:
            pass
        elif self.page_once:
            self.rolled_up.setdefault(severity, []).append(alarm)
        else:
            self._route(alarm, severity)
        for child in inputs or ():
            acknowledge(
                child,
                f"Input of composite alarm {name}, which notifies; a notification from each window "
                "alone is the noise multi-window alerting removes.",
                "HIPAA.Security-CloudWatchAlarmAction",
                "NIST.800.53.R5-CloudWatchAlarmAction",
            )
        self._record(alarm, severity, name)
        return alarm

    def rollup(self, *, signal: str, severity: Severity, summary: str, look_first_at: str) -> cw.CompositeAlarm | None:
        """With ``page_once``: the composite alarm that notifies for every alarm of ``severity`` created so
        far (ALARM while any is); None when there is none. The alarms under it keep no action of their
        own (acknowledged on each metric alarm), so an incident that trips several notifies once."""
        children = self.rolled_up.get(severity, [])
        if not children:
            return None
        name = self.name(signal, severity)
        rollup = self.composite_alarm(
            signal=signal, severity=severity, rule=cw.AlarmRule.any_of(*children), summary=summary,
            look_first_at=look_first_at, route=False,
        )
        self._route(rollup, severity)
        for child in children:
            if isinstance(child, cw.Alarm):
                acknowledge(
                    child,
                    f"Notifies through composite alarm {name} (ALARM while any {severity.value} alarm of "
                    f"{self.prefix} is): one incident, one notification per severity.",
                    "HIPAA.Security-CloudWatchAlarmAction",
                    "NIST.800.53.R5-CloudWatchAlarmAction",
                )
        return rollup

    def adopt(self, alarm: cw.Alarm, severity: Severity, *, roll_up: bool = True, reason: str = "") -> None:
        """Take an alarm another construct created through a factory (an endpoint's rollback alarms) as
        one of this factory's: shown with the others, and with ``page_once`` and ``roll_up`` notified
        through the severity's rollup like an alarm created here. ``roll_up=False``: recorded only
        (``reason`` says why it has no action; acknowledged on the alarm)."""
        if roll_up and self.page_once:
            self.rolled_up.setdefault(severity, []).append(alarm)
        elif not roll_up:
            acknowledge(alarm, reason, "HIPAA.Security-CloudWatchAlarmAction", "NIST.800.53.R5-CloudWatchAlarmAction")
        self._record(alarm, severity)

    def notifying(self, severity: Severity | None = None) -> list[cw.AlarmBase]:
        """Alarms that stand for a condition a person is told about, directly or through a rollup
        (everything but burn-rate window inputs), optionally of one severity."""
        inputs = {id(a) for a in self.inputs}
        return [
            a for a in self.alarms
            if id(a) not in inputs and (severity is None or self._severity[id(a)] is severity)
        ]

    # -- helpers -------------------------------------------------------------------------------
    def _record(self, alarm: cw.AlarmBase, severity: Severity, name: str | None = None) -> None:
        self.alarms.append(alarm)
        self._severity[id(alarm)] = severity
        if name is not None:  # adopted alarms were named by the factory that created them
            self._names[id(alarm)] = name

    def _route(self, alarm: cw.AlarmBase, severity: Severity) -> None:
        topic = self.routing.get(severity)
        if topic is not None:
            alarm.add_alarm_action(cw_actions.SnsAction(topic))
            alarm.add_ok_action(cw_actions.SnsAction(topic))

    @staticmethod
    def _description(summary: str, look_first_at: str) -> str:
        text = f"{summary.strip()} Look first at: {look_first_at.strip()}"
        return text if len(text) <= _quotas.MAX_ALARM_DESCRIPTION else text[: _quotas.MAX_ALARM_DESCRIPTION - 3] + "..."

    def _check(self, name: str, datapoints: Datapoints | None) -> None:
        p = Problems(f"alarm {name}")
        p.check(len(name) <= _quotas.MAX_ALARM_NAME, "alarm_name", name, f"at most {_quotas.MAX_ALARM_NAME} characters")
        if datapoints is not None:
            seconds = datapoints.period.to_seconds()
            p.check(
                _quotas.valid_alarm_window(seconds, datapoints.evaluation_periods),
                "period x evaluation_periods", (seconds, datapoints.evaluation_periods),
                "a period of 10, 20, 30 s or a multiple of 60 s, and period x evaluation periods <= 1 day "
                "(7 days for periods of 1 hour or more)",
            )
            p.check(
                1 <= datapoints.datapoints_to_alarm <= datapoints.evaluation_periods, "datapoints_to_alarm",
                datapoints.datapoints_to_alarm, f"1-evaluation_periods ({datapoints.evaluation_periods})",
            )
        p.raise_if_any()


def _with_period(metric: cw.IMetric, period: Duration) -> cw.IMetric:
    if isinstance(metric, (cw.Metric, cw.MathExpression)):
        return metric.with_(period=period)
    return metric


def _construct_id(*parts: str) -> str:
    return "".join(w.capitalize() for part in parts for w in re.split(r"[^A-Za-z0-9]+", part) if w) + "Alarm"
