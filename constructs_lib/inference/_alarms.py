"""The alarms every endpoint and inference component rolls back on: 5XX errors and p99 model latency."""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from .specs import AlarmSpec


def rollback_alarms(
    scope: Construct,
    *,
    name: str,
    spec: AlarmSpec,
    errors: cw.IMetric,
    errors_look_first: str,
    latency: cw.IMetric | None,
    latency_ms: int | None,
    latency_look_first: str,
    subject: str,
    topic: sns.ITopic | None,
) -> list[cw.Alarm]:
    """``<name>-5xx-errors`` and, when ``latency_ms`` is set, ``<name>-p99-model-latency``; both send
    ALARM and OK to ``topic``. Descriptions end with what to look at first."""
    alarms = [
        cw.Alarm(
            scope, "Errors5xxAlarm",
            alarm_name=f"{name}-5xx-errors",
            alarm_description=(
                f"{subject} {name} answered >= {spec.errors_5xx_threshold} 5XX per minute. Look first at {errors_look_first}"
            ),
            metric=errors,
            threshold=spec.errors_5xx_threshold,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=spec.evaluation_periods,
            datapoints_to_alarm=spec.datapoints_to_alarm,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
    ]
    if latency_ms is not None and latency is not None:
        alarms.append(
            cw.Alarm(
                scope, "LatencyP99Alarm",
                alarm_name=f"{name}-p99-model-latency",
                alarm_description=(
                    f"p99 ModelLatency of {subject.lower()} {name} above {latency_ms} ms. Look first at {latency_look_first}"
                ),
                metric=latency,
                threshold=latency_ms * 1000,  # ModelLatency is in microseconds
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=spec.evaluation_periods,
                datapoints_to_alarm=spec.datapoints_to_alarm,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            )
        )
    if topic is not None:
        for alarm in alarms:
            alarm.add_alarm_action(cw_actions.SnsAction(topic))
            alarm.add_ok_action(cw_actions.SnsAction(topic))
    return alarms
