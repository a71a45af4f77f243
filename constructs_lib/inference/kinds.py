"""What each endpoint kind is and can do: one table (``KIND_TRAITS``), one row per :class:`EndpointKind`.

The validation, the endpoint construct, its monitoring (alarms, dashboard, overview), the idle guard
and the stacks read these rows instead of testing the kind: adding a kind means adding a row (and its
spec), adding a fact means adding a field here and reading it where it matters.

A row says:

* **what it publishes** to CloudWatch (``invocation_metrics`` in ``AWS/SageMaker`` per variant, or per
  inference component; ``endpoint_metrics`` with dimension ``EndpointName`` only; ``instance_metrics``
  in ``/aws/sagemaker/Endpoints`` per variant; ``component_instance_metrics`` in
  ``/aws/sagemaker/InferenceComponents``), which usage metrics the idle guard sums, where the containers
  log, and its invocation timeout;
* **how it scales**: the Application Auto Scaling dimension of its ``autoscaling`` (and of its
  components'), the lowest minimum, the targets that exist (a target tracks a metric the kind publishes);
* **what it supports**: data capture, VPC, network isolation, shadow variants, deployment guardrails
  (blue/green with auto-rollback; rolling updates), promotion of an approved model, scale to zero.
  A ``*_not`` text is empty when the kind supports it; otherwise it says why not, in the words the
  config and the library show in their messages.

Sources (SageMaker Developer Guide unless named):

* "Amazon SageMaker AI metrics in Amazon CloudWatch" (endpoint instance metrics in
  ``/aws/sagemaker/Endpoints``, invocation metrics, inference component metrics per
  ``InferenceComponentName`` and ``/aws/sagemaker/InferenceComponents``);
* "Alarms and logs for tracking metrics from serverless endpoints": "an exhaustive list of metrics for
  serverless endpoints": Invocations, 4XX/5XX errors, ModelLatency, OverheadLatency, ModelSetupTime,
  MemoryUtilization and the serverless concurrency metrics; no CPU, GPU or disk metrics, no
  InvocationsPerInstance;
* "Alarms and logs for tracking metrics from asynchronous endpoints": no Invocations,
  InvocationsPerInstance or OverheadLatency; InvocationsProcessed per variant, backlog metrics per endpoint;
* Application Auto Scaling, botocore ``application-autoscaling`` model, enum ``ScalableDimension``:
  ``sagemaker:variant:DesiredInstanceCount`` ("The number of EC2 instances for a SageMaker model
  endpoint variant"), ``sagemaker:variant:DesiredProvisionedConcurrency`` ("The provisioned concurrency
  for a SageMaker serverless endpoint"), ``sagemaker:inference-component:DesiredCopyCount``;
  "Autoscale an asynchronous endpoint" (minimum 0);
* "Serverless Inference: feature exclusions" (no GPUs, VPC configuration, network isolation, data
  capture, multiple production variants, multi-model endpoints, Model Monitor);
* "Deployment guardrails: Exclusions" (rolling deployments: not for serverless or multi-variant
  endpoints; Marketplace containers and Inf1 fall back to all-at-once blue/green);
  "Shadow tests: Exclusions" (not serverless, asynchronous or multi-model endpoints);
* the CloudFormation schemas of ``AWS::SageMaker::EndpointConfig`` (``DataCaptureConfig``,
  ``VpcConfig``) and ``AWS::SageMaker::Endpoint`` (``DeploymentConfig``), bundled with cfn-lint, which
  restrict neither by kind: the restrictions above are the service's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .. import sagemaker_events as ev
from .metrics import (
    COMPONENT_INSTANCE_NAMESPACE,
    INSTANCE_METRICS,
    INSTANCE_NAMESPACE,
    INVOCATION_NAMESPACE,
    ComponentInstanceMetric,
    ComponentMetric,
    EndpointMetric,
    InstanceMetric,
    ScalableDimension,
)
from .specs import EndpointKind


class InvocationScope:
    """The dimensions of a kind's ``invocation_metrics`` in ``AWS/SageMaker``."""

    VARIANT = "variant"  # EndpointName + VariantName
    COMPONENT = "component"  # InferenceComponentName


@dataclass(frozen=True, kw_only=True)
class KindTraits:
    """What an endpoint kind publishes, how it scales and what it supports (see the module docstring)."""

    called: str
    """How messages name an endpoint of the kind (``a serverless endpoint``)."""
    # -- what it publishes -------------------------------------------------------------------------
    invocation_scope: str
    """:class:`InvocationScope`: per production variant, or per inference component."""
    invocation_metrics: frozenset[str]
    """``AWS/SageMaker`` metrics per ``invocation_scope``."""
    endpoint_metrics: frozenset[str] = frozenset()
    """``AWS/SageMaker`` metrics with dimension ``EndpointName`` only (asynchronous backlog)."""
    instance_metrics: frozenset[str] = frozenset()
    """``/aws/sagemaker/Endpoints`` metrics per variant (``EndpointName, VariantName``)."""
    component_instance_metrics: frozenset[str] = frozenset()
    """``/aws/sagemaker/InferenceComponents`` metrics per component."""
    usage_metrics: tuple[tuple[str, str, str], ...]
    """What the idle guard sums: ``(metric, statistic, dimension set)`` (``sagemaker_events.IDLE_SIGNALS``)."""
    container_logs: str = "/aws/sagemaker/Endpoints/{name}"
    """CloudWatch Logs group of the model containers (``{name}``: the endpoint name)."""
    invocation_timeout_ms: int = 60_000
    """How long a request may take: InvokeEndpoint times out after 60 s; an asynchronous request after
    its ``InvocationTimeoutSeconds`` (900 s by default)."""
    queued: bool = False
    """Requests are queued (``InvokeEndpointAsync``) and their results written to S3."""
    # -- how it scales -----------------------------------------------------------------------------
    scalable_dimension: str | None
    """Application Auto Scaling dimension of the endpoint's ``autoscaling`` (per variant); None: the
    endpoint itself is not registered (its instances scale by managed instance scaling)."""
    component_scalable_dimension: str | None = None
    """Dimension of its inference components' ``autoscaling``."""
    scaling_floor: int = 1
    """Lowest ``autoscaling`` minimum (and schedule minimum)."""
    scaling_floor_rule: str = ">= 1 for instance-based real-time variants"
    scaling_targets: frozenset[str] = frozenset()
    """``AutoScalingSpec`` target fields the kind has (the metric a target tracks is one it publishes)."""
    endpoint_scaling_not: str = ""
    """Why the endpoint takes no ``autoscaling`` ("" = it does)."""
    # -- what it supports --------------------------------------------------------------------------
    multiple_variants_not: str = ""
    """Why the endpoint has one production variant only ("" = up to 10)."""
    data_capture_not: str = ""
    vpc_not: str = ""
    network_isolation_not: str = ""
    shadow_variants: bool = False
    deployment_not: str = ""
    """Why the endpoint takes no ``DeploymentConfig`` (blue/green or rolling, auto-rollback alarms)."""
    rolling_update_not: str = ""
    """Why a ``RollingUpdatePolicy`` is refused (besides the multi-variant exclusion, which is per endpoint)."""
    promotion_not: str = ""
    """Why an approved model cannot be rolled out by copying the endpoint config with a new model ("" = it can)."""
    scale_to_zero_not: str = ""
    """Why the idle guard cannot take the endpoint to zero capacity ("" = it can)."""

    # -- derived facts -----------------------------------------------------------------------------
    @property
    def counts_invocations(self) -> bool:
        """It publishes ``Invocations`` (asynchronous endpoints do not: their requests are counted
        from the ``SampleCount`` of a per-request metric)."""
        return EndpointMetric.INVOCATIONS in self.invocation_metrics

    @property
    def instances_derivable(self) -> bool:
        """The instances in service can be derived as ``Invocations / InvocationsPerInstance``."""
        return {EndpointMetric.INVOCATIONS, EndpointMetric.INVOCATIONS_PER_INSTANCE} <= self.invocation_metrics

    @property
    def capacity_in_instances(self) -> bool:
        """Its ``autoscaling`` min/max are instance counts that its metrics can be compared with."""
        return self.scalable_dimension == ScalableDimension.VARIANT_INSTANCE_COUNT and self.instances_derivable

    @property
    def has_instances(self) -> bool:
        """It publishes per-instance CPU, GPU and disk metrics (it runs on instances you choose)."""
        return InstanceMetric.CPU_UTILIZATION in self.instance_metrics

    @property
    def namespaces(self) -> frozenset[str]:
        """The CloudWatch namespaces it publishes to."""
        return frozenset(
            ns for ns, metrics in (
                (INVOCATION_NAMESPACE, self.invocation_metrics | self.endpoint_metrics),
                (INSTANCE_NAMESPACE, self.instance_metrics),
                (COMPONENT_INSTANCE_NAMESPACE, self.component_instance_metrics),
            ) if metrics
        )

    def publishes(self, metric: str) -> bool:
        """``metric`` is one of its metrics, in any namespace."""
        return metric in (self.invocation_metrics | self.endpoint_metrics | self.instance_metrics
                          | self.component_instance_metrics)


_VARIANT_INVOCATIONS = frozenset({
    EndpointMetric.INVOCATIONS, EndpointMetric.INVOCATIONS_PER_INSTANCE, EndpointMetric.MODEL_LATENCY,
    EndpointMetric.OVERHEAD_LATENCY, EndpointMetric.INVOCATION_4XX_ERRORS, EndpointMetric.INVOCATION_5XX_ERRORS,
    EndpointMetric.INVOCATION_MODEL_ERRORS, EndpointMetric.CONCURRENT_REQUESTS_PER_MODEL,
})
_REALTIME_TARGETS = frozenset({"target_invocations_per_instance", "target_concurrent_requests_per_model", "metric_targets"})
_SERVERLESS = "serverless endpoints support no"

KIND_TRAITS: dict[EndpointKind, KindTraits] = {
    EndpointKind.REALTIME: KindTraits(
        called="a realtime endpoint",
        invocation_scope=InvocationScope.VARIANT, invocation_metrics=_VARIANT_INVOCATIONS,
        instance_metrics=INSTANCE_METRICS, usage_metrics=ev.IDLE_SIGNALS[ev.EndpointKind.REALTIME],
        scalable_dimension=ScalableDimension.VARIANT_INSTANCE_COUNT, scaling_targets=_REALTIME_TARGETS,
        shadow_variants=True,
        scale_to_zero_not="instance-based real-time endpoints keep at least one instance",
    ),
    EndpointKind.SERVERLESS: KindTraits(
        called="a serverless endpoint", multiple_variants_not=f"{_SERVERLESS} multiple variants",
        invocation_scope=InvocationScope.VARIANT,
        invocation_metrics=frozenset({
            EndpointMetric.INVOCATIONS, EndpointMetric.MODEL_LATENCY, EndpointMetric.OVERHEAD_LATENCY,
            EndpointMetric.INVOCATION_4XX_ERRORS, EndpointMetric.INVOCATION_5XX_ERRORS,
            EndpointMetric.MODEL_SETUP_TIME, EndpointMetric.SERVERLESS_PROVISIONED_CONCURRENCY_UTILIZATION,
            EndpointMetric.SERVERLESS_PROVISIONED_CONCURRENCY_SPILLOVER_INVOCATIONS,
        }),
        instance_metrics=frozenset({InstanceMetric.MEMORY_UTILIZATION}),
        usage_metrics=ev.IDLE_SIGNALS[ev.EndpointKind.SERVERLESS],
        scalable_dimension=ScalableDimension.VARIANT_PROVISIONED_CONCURRENCY,
        scaling_floor_rule=">= 1 provisioned concurrency",
        scaling_targets=frozenset({"target_provisioned_concurrency_utilization"}),
        data_capture_not=f"{_SERVERLESS} data capture", vpc_not=f"{_SERVERLESS} VPC configuration",
        network_isolation_not=f"{_SERVERLESS} network isolation",
        rolling_update_not="rolling updates need instances",
        scale_to_zero_not="serverless endpoints scale to zero by themselves",
    ),
    EndpointKind.ASYNC: KindTraits(
        called="an async endpoint",
        invocation_scope=InvocationScope.VARIANT,
        invocation_metrics=frozenset({
            EndpointMetric.MODEL_LATENCY, EndpointMetric.INVOCATION_4XX_ERRORS, EndpointMetric.INVOCATION_5XX_ERRORS,
            EndpointMetric.INVOCATIONS_PROCESSED,
        }),
        endpoint_metrics=frozenset({
            EndpointMetric.APPROXIMATE_BACKLOG_SIZE, EndpointMetric.APPROXIMATE_BACKLOG_SIZE_PER_INSTANCE,
            EndpointMetric.HAS_BACKLOG_WITHOUT_CAPACITY, EndpointMetric.APPROXIMATE_AGE_OF_OLDEST_REQUEST,
        }),
        instance_metrics=INSTANCE_METRICS, usage_metrics=ev.IDLE_SIGNALS[ev.EndpointKind.ASYNC],
        invocation_timeout_ms=900_000, queued=True,
        scalable_dimension=ScalableDimension.VARIANT_INSTANCE_COUNT, scaling_floor=0,
        scaling_floor_rule=">= 0 (asynchronous endpoints may scale to zero)",
        scaling_targets=frozenset({"target_backlog_per_instance", "metric_targets"}),
        promotion_not="asynchronous endpoints write results with their models' role; auto-deploy is not supported yet",
    ),
    EndpointKind.INFERENCE_COMPONENTS: KindTraits(
        called="an inference-component endpoint",
        invocation_scope=InvocationScope.COMPONENT,
        invocation_metrics=frozenset(
            v for k, v in vars(ComponentMetric).items() if not k.startswith("_") and isinstance(v, str)
        ),
        instance_metrics=INSTANCE_METRICS,
        component_instance_metrics=frozenset(
            v for k, v in vars(ComponentInstanceMetric).items() if not k.startswith("_") and isinstance(v, str)
        ),
        usage_metrics=ev.IDLE_SIGNALS[ev.EndpointKind.INFERENCE_COMPONENTS],
        container_logs="/aws/sagemaker/InferenceComponents/<component>",
        scalable_dimension=None, component_scalable_dimension=ScalableDimension.COMPONENT_COPY_COUNT,
        scaling_floor=0, scaling_floor_rule=">= 0",
        endpoint_scaling_not=(
            "instances scale with variants[0].managed_scaling, copies with each component's autoscaling"
        ),
        deployment_not="its components roll their copies on update",
        promotion_not="its models live in inference components, not in the endpoint config",
    ),
    EndpointKind.MULTI_MODEL: KindTraits(
        called="a multi-model endpoint",
        invocation_scope=InvocationScope.VARIANT, invocation_metrics=_VARIANT_INVOCATIONS,
        instance_metrics=INSTANCE_METRICS, usage_metrics=ev.IDLE_SIGNALS[ev.EndpointKind.MULTI_MODEL],
        scalable_dimension=ScalableDimension.VARIANT_INSTANCE_COUNT, scaling_targets=_REALTIME_TARGETS,
        promotion_not="a multi-model endpoint loads its models from its S3 prefix: upload the model there instead",
        scale_to_zero_not="instance-based multi-model endpoints keep at least one instance",
    ),
}
assert set(KIND_TRAITS) == set(EndpointKind), "one row per EndpointKind"


def traits_of(kind: EndpointKind) -> KindTraits:
    return KIND_TRAITS[kind]


def kinds_where(test, kinds: Iterable[EndpointKind] = EndpointKind) -> frozenset[EndpointKind]:
    """The kinds whose traits pass ``test`` (``kinds_where(lambda t: t.publishes(...))``)."""
    return frozenset(k for k in kinds if test(KIND_TRAITS[k]))


def kinds_publishing(metric: str) -> frozenset[EndpointKind]:
    """The kinds that publish ``metric`` (in any of their namespaces)."""
    return kinds_where(lambda t: t.publishes(metric))
