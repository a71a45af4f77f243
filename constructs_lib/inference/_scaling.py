"""Application Auto Scaling pieces shared by endpoints and inference components."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack, TimeZone
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from constructs import Construct

from .specs import ScheduledScalingSpec

AUTOSCALING_SERVICE_LINKED_ROLE = "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"


def service_linked_role(scope: Construct) -> iam.IRole:
    """Application Auto Scaling acts for SageMaker through its service-linked role (created on first
    use); an extra role would be unused."""
    existing = scope.node.try_find_child("AutoScalingServiceLinkedRole")
    if existing is not None:
        return existing  # type: ignore[return-value]
    stack = Stack.of(scope)
    return iam.Role.from_role_arn(
        scope, "AutoScalingServiceLinkedRole",
        f"arn:{stack.partition}:iam::{stack.account}:role/aws-service-role/"
        f"sagemaker.application-autoscaling.amazonaws.com/{AUTOSCALING_SERVICE_LINKED_ROLE}",
    )


def add_schedules(target: appscaling.ScalableTarget, schedules: Sequence[ScheduledScalingSpec]) -> None:
    for s in schedules:
        target.scale_on_schedule(
            s.name,
            schedule=appscaling.Schedule.expression(s.schedule),
            time_zone=TimeZone.of(s.time_zone) if s.time_zone else None,
            min_capacity=s.min_capacity,
            max_capacity=s.max_capacity,
        )


def scale_out_from_zero(
    scope: Construct,
    *,
    target: appscaling.ScalableTarget,
    metric: cw.IMetric,
    alarm_name: str,
    description: str,
    cooldown: Duration,
    evaluation_periods: int,
    aggregation: appscaling.MetricAggregationType,
    policy_name: str | None = None,
) -> cw.Alarm:
    """Step policy ``ScaleOutFromZero`` (+1 capacity) triggered by alarm ``ScaleOutFromZeroAlarm`` when
    ``metric`` >= 1: target tracking cannot scale out from zero capacity, a step policy can."""
    action = appscaling.StepScalingAction(
        scope, "ScaleOutFromZero",
        scaling_target=target,
        adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
        cooldown=cooldown,
        metric_aggregation_type=aggregation,
        policy_name=policy_name,
    )
    action.add_adjustment(adjustment=1, lower_bound=0)
    alarm = cw.Alarm(
        scope, "ScaleOutFromZeroAlarm",
        alarm_name=alarm_name,
        alarm_description=description,
        metric=metric,
        threshold=1,
        comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=evaluation_periods,
        treat_missing_data=cw.TreatMissingData.MISSING,
    )
    alarm.add_alarm_action(cw_actions.ApplicationScalingAction(action))
    return alarm
