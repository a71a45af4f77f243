"""What every endpoint offers, from its name alone: metrics, grants and event rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from .. import sagemaker_events as ev
from .metrics import (
    DEFAULT_PERIOD,
    INSTANCE_NAMESPACE,
    INVOCATION_NAMESPACE,
    EndpointMetric,
    InstanceMetric,
    Statistic,
    component_metric,
)
from .specs import DEFAULT_VARIANT_NAME, EndpointKind


class EndpointBase(Construct):
    """Intent helpers shared by created and imported endpoints.

    Every ``metric_*`` returns a ``cw.Metric`` for one variant (default: the first variant; the
    asynchronous backlog metrics are per endpoint), with the documented default statistic and a
    1-minute period; pass ``statistic``/``period``/``label`` to change. Which metrics an endpoint
    publishes depends on its ``kind`` (backlog: async; provisioned concurrency: serverless).
    """

    endpoint_name: str
    endpoint_arn: str
    variant_names: tuple[str, ...]
    kind: EndpointKind = EndpointKind.REALTIME
    #: Typed facts for consumers (monitoring, lifecycle, stacks), so none reads generated resources
    #: back: the production variants' instance types (primary types; empty when
    #: serverless or imported), the autoscaling bounds (``(None, None)`` without autoscaling or when
    #: imported) and the alarms a deployment rolls back on (empty when imported).
    instance_types: tuple[str, ...] = ()
    capacity_bounds: tuple[int | None, int | None] = (None, None)
    alarms: Sequence[cw.IAlarm] = ()
    #: The alarms above by ``<signal key>.<severity>`` (``error_rate_5xx_percent.critical``): the
    #: critical alarms of the signals the deployment watches, which ``EndpointMonitoring`` adopts.
    signal_alarms: Mapping[str, Sequence[cw.IAlarm]] = MappingProxyType({})
    #: True when those alarms notify a topic of their own (``alarm_topic``).
    alarms_routed: bool = False
    #: What a resource on this endpoint (an inference component) waits for: the ``CfnEndpoint`` of an
    #: endpoint created in this app; None when imported (it exists already).
    in_service_after: IConstruct | None = None
    #: Variant name -> the promotion parameters its model is read from (``PromotedModel``); empty
    #: when no variant is promoted (or imported).
    promoted_models: Mapping[str, Any] = MappingProxyType({})
    #: The ``UpdateEndpoint`` ``DeploymentConfig`` CloudFormation gives the endpoint, in the API's
    #: shape (``PascalCase``, rollback alarms by name); None without a deployment (or imported).
    deployment_config: Mapping[str, Any] | None = None

    # -- metrics -------------------------------------------------------------------------------
    def metric(
        self,
        metric_name: str,
        *,
        namespace: str = INVOCATION_NAMESPACE,
        variant_name: str | None = None,
        statistic: str = Statistic.SUM,
        period: Duration = DEFAULT_PERIOD,
        label: str | None = None,
        with_variant: bool = True,
    ) -> cw.Metric:
        dims = {"EndpointName": self.endpoint_name}
        if with_variant:
            dims["VariantName"] = variant_name or self.variant_names[0]
        return cw.Metric(
            namespace=namespace, metric_name=metric_name, dimensions_map=dims,
            statistic=statistic, period=period, label=label,
        )

    def metric_invocations(self, **kw) -> cw.Metric:
        """Requests sent to the variant (Sum)."""
        return self.metric(EndpointMetric.INVOCATIONS, **kw)

    def metric_invocations_per_instance(self, **kw) -> cw.Metric:
        """Invocations normalized by instance count (Sum): the default autoscaling signal."""
        return self.metric(EndpointMetric.INVOCATIONS_PER_INSTANCE, **kw)

    def metric_model_latency(self, *, statistic: str = Statistic.P99, **kw) -> cw.Metric:
        """Time the model container takes to respond, microseconds (default p99)."""
        return self.metric(EndpointMetric.MODEL_LATENCY, statistic=statistic, **kw)

    def metric_overhead_latency(self, *, statistic: str = Statistic.P99, **kw) -> cw.Metric:
        """SageMaker overhead on top of model latency, microseconds (default p99)."""
        return self.metric(EndpointMetric.OVERHEAD_LATENCY, statistic=statistic, **kw)

    def metric_invocation_4xx_errors(self, **kw) -> cw.Metric:
        """Requests answered 4XX (Sum)."""
        return self.metric(EndpointMetric.INVOCATION_4XX_ERRORS, **kw)

    def metric_invocation_5xx_errors(self, **kw) -> cw.Metric:
        """Requests answered 5XX (Sum)."""
        return self.metric(EndpointMetric.INVOCATION_5XX_ERRORS, **kw)

    def metric_invocation_model_errors(self, **kw) -> cw.Metric:
        """Requests whose model container answered with an error (Sum)."""
        return self.metric(EndpointMetric.INVOCATION_MODEL_ERRORS, **kw)

    def metric_model_setup_time(self, *, statistic: str = Statistic.AVERAGE, **kw) -> cw.Metric:
        """Time to launch a new compute resource for the model, microseconds (Average)."""
        return self.metric(EndpointMetric.MODEL_SETUP_TIME, statistic=statistic, **kw)

    def metric_concurrent_requests_per_model(self, *, statistic: str = Statistic.MAXIMUM, **kw) -> cw.Metric:
        """Concurrent requests per model copy, high resolution (Maximum)."""
        return self.metric(EndpointMetric.CONCURRENT_REQUESTS_PER_MODEL, statistic=statistic, **kw)

    def metric_serverless_provisioned_concurrency_utilization(
        self, *, statistic: str = Statistic.AVERAGE, **kw
    ) -> cw.Metric:
        """Serverless: share of provisioned concurrency in use, 0-1 (Average)."""
        return self.metric(EndpointMetric.SERVERLESS_PROVISIONED_CONCURRENCY_UTILIZATION, statistic=statistic, **kw)

    def metric_serverless_provisioned_concurrency_spillover_invocations(self, **kw) -> cw.Metric:
        """Serverless: invocations served on demand because provisioned concurrency was exhausted (Sum)."""
        return self.metric(EndpointMetric.SERVERLESS_PROVISIONED_CONCURRENCY_SPILLOVER_INVOCATIONS, **kw)

    # Asynchronous endpoints publish their backlog per endpoint (dimension EndpointName only).
    def metric_approximate_backlog_size(self, *, statistic: str = Statistic.AVERAGE, **kw) -> cw.Metric:
        """Async: requests queued or being processed (Average; EndpointName only)."""
        return self.metric(EndpointMetric.APPROXIMATE_BACKLOG_SIZE, statistic=statistic, with_variant=False, **kw)

    def metric_approximate_backlog_size_per_instance(self, *, statistic: str = Statistic.AVERAGE, **kw) -> cw.Metric:
        """Async: backlog divided by the instance count (Average; EndpointName only): the scaling signal."""
        return self.metric(
            EndpointMetric.APPROXIMATE_BACKLOG_SIZE_PER_INSTANCE, statistic=statistic, with_variant=False, **kw
        )

    def metric_has_backlog_without_capacity(self, *, statistic: str = Statistic.AVERAGE, **kw) -> cw.Metric:
        """Async: 1 while requests wait and no instance runs (Average; EndpointName only)."""
        return self.metric(
            EndpointMetric.HAS_BACKLOG_WITHOUT_CAPACITY, statistic=statistic, with_variant=False, **kw
        )

    def metric_approximate_age_of_oldest_request(self, *, statistic: str = Statistic.MAXIMUM, **kw) -> cw.Metric:
        """Async: age in seconds of the oldest queued request (Maximum; EndpointName only)."""
        return self.metric(
            EndpointMetric.APPROXIMATE_AGE_OF_OLDEST_REQUEST, statistic=statistic, with_variant=False, **kw
        )

    # Inference-component endpoints publish invocation metrics per component.
    @property
    def inference_component_names(self) -> tuple[str, ...]:
        """Names of the inference components hosted on this endpoint that this construct knows of."""
        return tuple(self._inference_component_names)

    _inference_component_names: tuple[str, ...] = ()

    def metric_component(self, component_name: str, metric_name: str, **kw) -> cw.Metric:
        """A metric of one inference component of this endpoint (dimension InferenceComponentName)."""
        return component_metric(component_name, metric_name, **kw)

    def _instance_metric(self, name: str, statistic: str, kw: dict) -> cw.Metric:
        return self.metric(name, namespace=INSTANCE_NAMESPACE, statistic=statistic, **kw)

    def metric_cpu_utilization(self, *, statistic: str = Statistic.AVERAGE, **kw) -> cw.Metric:
        """Percent, summed over vCPUs (Average)."""
        return self._instance_metric(InstanceMetric.CPU_UTILIZATION, statistic, kw)

    def metric_memory_utilization(self, *, statistic: str = Statistic.AVERAGE, **kw) -> cw.Metric:
        """Percent (Average)."""
        return self._instance_metric(InstanceMetric.MEMORY_UTILIZATION, statistic, kw)

    def metric_gpu_utilization(self, *, statistic: str = Statistic.AVERAGE, **kw) -> cw.Metric:
        """Percent, summed over GPUs (Average)."""
        return self._instance_metric(InstanceMetric.GPU_UTILIZATION, statistic, kw)

    def metric_gpu_memory_utilization(self, *, statistic: str = Statistic.AVERAGE, **kw) -> cw.Metric:
        """Percent, summed over GPUs (Average)."""
        return self._instance_metric(InstanceMetric.GPU_MEMORY_UTILIZATION, statistic, kw)

    def metric_disk_utilization(self, *, statistic: str = Statistic.AVERAGE, **kw) -> cw.Metric:
        """Percent of the storage volume (Average)."""
        return self._instance_metric(InstanceMetric.DISK_UTILIZATION, statistic, kw)

    # -- grants and events ---------------------------------------------------------------------
    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to invoke this endpoint (sync and async)."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointAsync"],
            resource_arns=[self.endpoint_arn],
        )

    def on_state_change(
        self, id: str, *, target: events.IRuleTarget | None = None, description: str | None = None
    ) -> events.Rule:
        """EventBridge rule on ``SageMaker Endpoint State Change`` events of this endpoint."""
        rule = events.Rule(
            self, id, description=description or f"State changes of endpoint {self.endpoint_name}",
            event_pattern=events.EventPattern(
                source=[ev.SOURCE],
                detail_type=[ev.DetailType.ENDPOINT_STATE_CHANGE],
                detail={"EndpointName": [self.endpoint_name]},
            ),
        )
        if target is not None:
            rule.add_target(target)
        return rule


def endpoint_arn_for(scope: Construct, endpoint_name: str) -> str:
    # SageMaker stores endpoint names lower-cased in ARNs.
    lowered = endpoint_name.lower() if isinstance(endpoint_name, str) else endpoint_name
    return Stack.of(scope).format_arn(service="sagemaker", resource="endpoint", resource_name=lowered)


class ImportedEndpoint(EndpointBase):
    """An endpoint created elsewhere, known by name: metrics, grants and rules work the same."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint_name: str,
        variant_names: Sequence[str],
        kind: EndpointKind = EndpointKind.REALTIME,
        inference_component_names: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id)
        self.kind = kind
        self._inference_component_names = tuple(inference_component_names)
        self.endpoint_name = endpoint_name
        self.endpoint_arn = endpoint_arn_for(self, endpoint_name)
        self.variant_names = tuple(variant_names) or (DEFAULT_VARIANT_NAME,)
