"""``IdleEndpointGuard``: endpoints without traffic are reported on a schedule; opted-in ones are
scaled to zero where SageMaker supports it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from .. import limits
from ..compliance import acknowledge
from ..errors import Problems
from ..inference.base import endpoint_arn_for
from ..inference.kinds import InvocationScope, traits_of
from ..inference.specs import EndpointKind
from ._wiring import (
    METRICS_NAMESPACE,
    acknowledge_wildcards,
    add_function_target,
    allow_describe_endpoints,
    allow_notifications,
    dead_letter_queue,
    sagemaker_arn,
)
from .events import on_schedule
from .reliable_function import ReliableFunction

IDLE_HOURS = (1, 720)  # the handler clamps IDLE_HOURS to this range
# The handler's settings file next to it in the code asset (its SETTINGS_FILE).
SETTINGS_FILE = "settings.json"


def scale_to_zero_kinds() -> tuple[EndpointKind, ...]:
    """Kinds whose capacity the handler can take to zero (``KindTraits.scale_to_zero_not`` empty), in
    table order; how follows from their traits: a variant's scalable target, or each component's copies."""
    return tuple(k for k in EndpointKind if not traits_of(k).scale_to_zero_not)


def _per_component(kind: EndpointKind) -> bool:
    """Its usage metrics and its zero capacity are per inference component: it needs their names."""
    return traits_of(kind).invocation_scope == InvocationScope.COMPONENT


@dataclass(frozen=True)
class WatchedEndpoint:
    """An endpoint the guard watches, with its kind: each kind publishes its own usage metrics
    (``KindTraits.usage_metrics``, which are ``sagemaker_events.IDLE_SIGNALS``, the table the handler
    reads by the kind it gets here; asynchronous endpoints publish no ``Invocations``).

    :param inference_components: for ``INFERENCE_COMPONENTS``, the components whose per-component
        ``Invocations`` decide whether the endpoint is idle (required for that kind).
    """

    endpoint_name: str
    kind: EndpointKind = EndpointKind.REALTIME
    inference_components: tuple[str, ...] = ()

    def as_environment(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"EndpointName": self.endpoint_name, "Kind": self.kind.value}
        if self.inference_components:
            entry["InferenceComponents"] = list(self.inference_components)
        return entry


@dataclass(frozen=True)
class ScaleToZero:
    """An endpoint the guard may scale to zero once it is idle.

    ``ASYNC``: the variants' Application Auto Scaling target gets ``MinCapacity`` 0 (the endpoint must
    have a registered scalable target; its scaling policy then scales it in). ``INFERENCE_COMPONENTS``:
    each of ``inference_components`` that served nothing in the window gets ``CopyCount`` 0.
    """

    endpoint_name: str
    kind: EndpointKind
    inference_components: tuple[str, ...] = ()


class IdleEndpointGuard(Construct):
    """A scheduled EventBridge rule (every ``check_every``) and the ``idle_endpoint_guard`` function:
    it sums each endpoint's usage metrics over the last ``idle_hours`` (per kind: ``Invocations``;
    asynchronous: ``InvocationsProcessed`` and ``ApproximateBacklogSize``; inference components: their
    own ``Invocations``) and reports idle (and missing) endpoints in one SNS notification; for idle
    endpoints in ``scale_to_zero`` it lowers their capacity to zero (see :class:`ScaleToZero`).

    Permissions: ``cloudwatch:GetMetricData`` (no resource-level permissions exist),
    ``DescribeEndpoint`` on ``endpoint_names``, and only for ``scale_to_zero`` endpoints the scaling
    calls. Exposes ``rule``, ``handler`` (:class:`ReliableFunction`) and ``dead_letter_queue``.

    :param endpoint_names: physical names of the endpoints to watch: a name alone is a real-time
        endpoint (or the kind of its ``scale_to_zero`` entry); a :class:`WatchedEndpoint` gives the kind.
    :param idle_hours: observation window, 1-720; default 24.
    :param check_every: default one hour.
    :param scale_to_zero: default none: idle endpoints are only reported.
    :param endpoint_name_prefix: a prefix every watched name starts with (the platform's
        ``<prefix>-``): ``DescribeEndpoint`` is then granted on that one ARN pattern, of the same size for
        5 endpoints or 500; default none: on each endpoint's ARN (an IAM role's inline policies are
        limited to 10,240 characters in all, about 120 endpoint ARNs).

    The watched list (and ``scale_to_zero``'s) is a file in the function's code asset
    (``SETTINGS_FILE``), not an environment variable: Lambda limits a function's environment to 4 KB in
    all, about 60 endpoints' entries.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint_names: Sequence[str | WatchedEndpoint],
        topic: sns.ITopic,
        key: kms.IKey,
        idle_hours: int = 24,
        check_every: Duration = Duration.hours(1),
        scale_to_zero: Sequence[ScaleToZero] = (),
        endpoint_name_prefix: str | None = None,
        platform_name: str = "aiplatform",
        metrics_namespace: str = METRICS_NAMESPACE,
    ) -> None:
        super().__init__(scope, id)
        p = Problems(f"IdleEndpointGuard {self.node.path}")
        scaled = {t.endpoint_name: t for t in scale_to_zero}
        watched: list[WatchedEndpoint] = []
        for entry in endpoint_names:
            if isinstance(entry, str):  # the kind of its scale-to-zero entry, else real-time
                target = scaled.get(entry)
                entry = WatchedEndpoint(
                    entry, target.kind, target.inference_components
                ) if target else WatchedEndpoint(entry)
            watched.append(entry)
        endpoint_names = [w.endpoint_name for w in watched]
        p.check(bool(endpoint_names), "endpoint_names", list(endpoint_names), "at least one endpoint name")
        for i, w in enumerate(watched):
            p.check(bool(limits.NAME_PATTERN.match(w.endpoint_name)), f"endpoint_names[{i}]", w.endpoint_name, limits.NAME_RULE)
            p.check(
                not _per_component(w.kind) or bool(w.inference_components),
                f"endpoint_names[{i}].inference_components", list(w.inference_components),
                "the names of the endpoint's inference components (their Invocations decide idleness)",
            )
            target = scaled.get(w.endpoint_name)
            if target is not None:
                p.check(
                    target.kind is w.kind, f"endpoint_names[{i}].kind", w.kind.value,
                    f"the kind of its scale_to_zero entry ({target.kind.value})",
                )
        if endpoint_name_prefix is not None:
            p.check(
                bool(limits.NAME_PATTERN.match(endpoint_name_prefix.rstrip("-"))), "endpoint_name_prefix",
                endpoint_name_prefix, limits.NAME_RULE + ", optionally followed by '-'",
            )
            outside = [n for n in endpoint_names if not n.startswith(endpoint_name_prefix)]
            p.check(
                not outside, "endpoint_names", outside[:5],
                f"names that start with endpoint_name_prefix {endpoint_name_prefix!r} (only those may be described)",
            )
        p.check(IDLE_HOURS[0] <= idle_hours <= IDLE_HOURS[1], "idle_hours", idle_hours, "1-720 hours")
        p.check(
            60 <= check_every.to_seconds() <= idle_hours * 3600, "check_every", check_every.to_seconds(),
            "at least one minute and at most idle_hours",
        )
        for i, target in enumerate(scale_to_zero):
            where = f"scale_to_zero[{i}]"
            p.check(
                target.endpoint_name in endpoint_names, f"{where}.endpoint_name", target.endpoint_name,
                "one of endpoint_names (only watched endpoints are found idle)",
            )
            p.check(
                target.kind in scale_to_zero_kinds(), f"{where}.kind", target.kind.value,
                f"{' or '.join(k.value for k in scale_to_zero_kinds())} "
                f"({target.kind.value}: {traits_of(target.kind).scale_to_zero_not})",
            )
            p.check(
                not _per_component(target.kind) or bool(target.inference_components),
                f"{where}.inference_components", list(target.inference_components),
                "the names of the endpoint's inference components",
            )
        p.raise_if_any()

        names = sorted(set(endpoint_names))
        # Lists of any length go to the code asset (plain names only: validated against NAME_PATTERN).
        settings: dict[str, Any] = {
            "ENDPOINTS": [w.as_environment() for w in sorted(watched, key=lambda w: w.endpoint_name)],
        }
        if scale_to_zero:
            settings["SCALE_TO_ZERO_ENDPOINTS"] = sorted({t.endpoint_name for t in scale_to_zero})
        environment = {
            "TOPIC_ARN": topic.topic_arn,
            "PLATFORM_NAME": platform_name,
            "SETTINGS_FILE": SETTINGS_FILE,
            "IDLE_HOURS": str(idle_hours),
        }
        self.handler = ReliableFunction(
            self, "Handler",
            code_name="idle_endpoint_guard",
            description="Reports SageMaker endpoints without invocations; scales opted-in ones to zero",
            key=key,
            environment=environment,
            reserved_concurrency=1,  # one run at a time: runs are periodic, never urgent
            timeout=Duration.minutes(2),
            metrics_namespace=metrics_namespace,
            data_files={SETTINGS_FILE: json.dumps(settings, indent=1, sort_keys=True) + "\n"},
        )
        allow_notifications(self.handler, topic, key)
        allow_describe_endpoints(
            self.handler, "DescribeWatchedEndpoints", names=names, prefix=endpoint_name_prefix,
            reason="sagemaker:DescribeEndpoint (read-only) on the endpoints named with the platform's prefix, "
            "which every watched endpoint's name starts with: one ARN pattern for any number of endpoints.",
        )
        self.handler.add_to_role_policy(
            iam.PolicyStatement(sid="ReadInvocationMetrics", actions=["cloudwatch:GetMetricData"], resources=["*"])
        )
        self._allow_scale_to_zero(scale_to_zero)
        acknowledge(
            self.handler.role,
            "cloudwatch:GetMetricData (and X-Ray, Application Auto Scaling's DescribeScalableTargets and "
            "SageMaker's ListInferenceComponents) support no resource-level permissions; GetMetricData "
            "only reads metrics, every write is scoped to the opted-in endpoints.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        self.dead_letter_queue = dead_letter_queue(self, key)
        self.rule = on_schedule(
            self, "Rule", every=check_every,
            description=f"Every {check_every.to_human_string()}: report SageMaker endpoints idle for {idle_hours} hours",
        )
        add_function_target(self.rule, self.handler, self.dead_letter_queue)

    def _allow_scale_to_zero(self, scale_to_zero: Sequence[ScaleToZero]) -> None:
        # Endpoints scaled to zero through their variants' scalable targets (async), components by copy count.
        by_variant = [t for t in scale_to_zero if not _per_component(t.kind) and traits_of(t.kind).scalable_dimension]
        asynchronous = sorted({t.endpoint_name for t in by_variant})
        dimensions = sorted({traits_of(t.kind).scalable_dimension for t in by_variant})
        components = sorted({c for t in scale_to_zero for c in t.inference_components})
        if asynchronous:
            stack = Stack.of(self)
            # Scalable targets have generated ids in their ARNs: scoped by namespace and dimension.
            scalable_targets = stack.format_arn(
                service="application-autoscaling", resource="scalable-target", resource_name="*"
            )
            self.handler.add_to_role_policy(
                iam.PolicyStatement(
                    sid="FindScalableTargets", actions=["application-autoscaling:DescribeScalableTargets"],
                    resources=["*"],
                )
            )
            self.handler.add_to_role_policy(
                iam.PolicyStatement(
                    sid="LowerMinimumCapacity",
                    actions=["application-autoscaling:RegisterScalableTarget"],
                    resources=[scalable_targets],
                    conditions={
                        "StringEquals": {
                            "application-autoscaling:service-namespace": "sagemaker",
                            "application-autoscaling:scalable-dimension": (
                                dimensions[0] if len(dimensions) == 1 else dimensions
                            ),
                        }
                    },
                )
            )
            acknowledge_wildcards(
                self.handler,
                "Scalable target ARNs end in an id Application Auto Scaling generates; the statement is "
                "limited to SageMaker variant instance counts by its conditions, and Application Auto "
                "Scaling checks UpdateEndpointWeightsAndCapacities on the endpoint itself (next statement).",
                scalable_targets,
            )
            # Application Auto Scaling validates that the caller may change the endpoint it registers.
            self.handler.add_to_role_policy(
                iam.PolicyStatement(
                    sid="ScaleOptedInEndpoints",
                    actions=["sagemaker:UpdateEndpointWeightsAndCapacities"],
                    resources=[endpoint_arn_for(self, name) for name in asynchronous],
                )
            )
        if components:
            self.handler.add_to_role_policy(
                iam.PolicyStatement(
                    sid="ListInferenceComponents", actions=["sagemaker:ListInferenceComponents"], resources=["*"]
                )
            )
            self.handler.add_to_role_policy(
                iam.PolicyStatement(
                    sid="ScaleOptedInComponents",
                    actions=["sagemaker:UpdateInferenceComponentRuntimeConfig"],
                    resources=[sagemaker_arn(self, "inference-component", name) for name in components],
                )
            )
