"""``InferenceComponent``: one model with reserved compute and its own copy count on an inference-component endpoint."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.aws_sagemaker import CfnInferenceComponent
from constructs import Construct

from ..errors import Problems
from ._role import ExecutionRoleRequest, build_execution_role
from ._scaling import add_schedules, scale_out_from_zero, service_linked_role
from ._validation import validate_component
from .base import EndpointBase
from .metrics import (
    COMPONENT_INSTANCE_NAMESPACE,
    DEFAULT_PERIOD,
    INVOCATION_NAMESPACE,
    ComponentInstanceMetric,
    ComponentMetric,
    ScalableDimension,
    Statistic,
    component_metric,
)
from .specs import ComponentSpec, EndpointKind


def construct_id(name: str, suffix: str) -> str:
    """``llama-8b`` -> ``Llama8bComponent``: construct ids derived from names, stable across releases."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("-")) + suffix


class InferenceComponent(Construct):
    """An ``AWS::SageMaker::InferenceComponent`` on an endpoint of kind ``INFERENCE_COMPONENTS``.

    Creates the component's ``CfnModel`` (no physical name; network isolation on) with its own
    least-privilege execution role, the component (``component``) with the stable physical name
    ``spec.name``, compute requirements (accelerators, memory, CPU cores) and ``RuntimeConfig.CopyCount``;
    and with ``spec.autoscaling`` a scalable
    target ``inference-component/<name>`` on ``sagemaker:inference-component:DesiredCopyCount``
    with target tracking, and for ``min_copies`` 0 a step policy that adds a copy when the
    ``NoCapacityInvocationFailures`` alarm fires (``scaling_alarms``). Its health alarms (5XX rate,
    p99 model latency per component) come from ``EndpointMonitoring`` of the endpoint: inference-component
    endpoints have no deployment to roll back, so the component creates no alarm set of its own.

    :param endpoint: an endpoint of kind ``INFERENCE_COMPONENTS``, created here or imported with
        ``InferenceEndpoint.from_endpoint_name(..., kind=EndpointKind.INFERENCE_COMPONENTS)``.
    :param variant_name: default the endpoint's first variant.
    :param network_isolation: default True.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint: EndpointBase,
        spec: ComponentSpec,
        variant_name: str | None = None,
        network_isolation: bool = True,
    ) -> None:
        super().__init__(scope, id)
        p = Problems(f"InferenceComponent {self.node.path}")
        if endpoint.kind is not EndpointKind.INFERENCE_COMPONENTS:
            p.add("endpoint", endpoint.kind.value, "an endpoint of kind inference-components (its variants host no model)")
        variant = variant_name or endpoint.variant_names[0]
        if variant not in endpoint.variant_names:
            p.add("variant_name", variant, f"one of the endpoint's variants ({', '.join(endpoint.variant_names)})")
        validate_component(p, "spec", spec, ())
        p.raise_if_any()

        self.endpoint = endpoint
        self.spec = spec
        self.component_name = spec.name
        self.role, self.execution_policy = build_execution_role(
            self,
            ExecutionRoleRequest(
                endpoint_name=endpoint.endpoint_name, models=[spec.model],
                description=f"Execution role of inference component {spec.name} on {endpoint.endpoint_name}",
                log_groups=[f"/aws/sagemaker/Endpoints/{endpoint.endpoint_name}", f"/aws/sagemaker/InferenceComponents/{spec.name}"],
            ),
        )
        self.model = sagemaker.CfnModel(
            self, "Model",
            execution_role_arn=self.role.role_arn,
            enable_network_isolation=network_isolation,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=spec.model.image, model_data_url=spec.model.model_data_url,
                environment=dict(spec.model.environment) or None,
            ),
        )
        startup = (
            CfnInferenceComponent.InferenceComponentStartupParametersProperty(
                container_startup_health_check_timeout_in_seconds=spec.container_startup_timeout_seconds,
                model_data_download_timeout_in_seconds=spec.model_download_timeout_seconds,
            )
            if spec.container_startup_timeout_seconds or spec.model_download_timeout_seconds else None
        )
        self.component = CfnInferenceComponent(
            self, "Resource",
            endpoint_name=endpoint.endpoint_name,
            inference_component_name=spec.name,
            variant_name=variant,
            specification=CfnInferenceComponent.InferenceComponentSpecificationProperty(
                model_name=self.model.attr_model_name,
                compute_resource_requirements=CfnInferenceComponent.InferenceComponentComputeResourceRequirementsProperty(
                    number_of_accelerator_devices_required=spec.accelerators,
                    min_memory_required_in_mb=spec.memory_mb,
                    number_of_cpu_cores_required=spec.cpu_cores,
                ),
                startup_parameters=startup,
            ),
            runtime_config=CfnInferenceComponent.InferenceComponentRuntimeConfigProperty(copy_count=spec.copies),
        )
        if endpoint.in_service_after is not None:
            self.component.node.add_dependency(endpoint.in_service_after)  # the endpoint must be in service first
        self.component_arn = self.component.attr_inference_component_arn
        self.scaling_alarms: list[cw.Alarm] = []
        self.scalable_target = self._autoscaling()

    # -- metrics (dimension InferenceComponentName) ---------------------------------------------
    def metric(
        self,
        metric_name: str,
        *,
        namespace: str = INVOCATION_NAMESPACE,
        statistic: str = Statistic.SUM,
        period: Duration = DEFAULT_PERIOD,
        label: str | None = None,
    ) -> cw.Metric:
        """Any metric of this component; the helpers below document their default statistic (1-minute period)."""
        return component_metric(
            self.component_name, metric_name, namespace=namespace, statistic=statistic, period=period, label=label
        )

    def metric_invocations(self, **kw) -> cw.Metric:
        """Requests sent to the component (Sum)."""
        return self.metric(ComponentMetric.INVOCATIONS, **kw)

    def metric_invocations_per_copy(self, **kw) -> cw.Metric:
        """Invocations normalized by copy count (Sum)."""
        return self.metric(ComponentMetric.INVOCATIONS_PER_COPY, **kw)

    def metric_model_latency(self, *, statistic: str = Statistic.P99, **kw) -> cw.Metric:
        """Microseconds (default p99)."""
        return self.metric(ComponentMetric.MODEL_LATENCY, statistic=statistic, **kw)

    def metric_overhead_latency(self, *, statistic: str = Statistic.P99, **kw) -> cw.Metric:
        """Microseconds (default p99)."""
        return self.metric(ComponentMetric.OVERHEAD_LATENCY, statistic=statistic, **kw)

    def metric_invocation_4xx_errors(self, **kw) -> cw.Metric:
        """Requests answered 4XX (Sum)."""
        return self.metric(ComponentMetric.INVOCATION_4XX_ERRORS, **kw)

    def metric_invocation_5xx_errors(self, **kw) -> cw.Metric:
        """Requests answered 5XX (Sum)."""
        return self.metric(ComponentMetric.INVOCATION_5XX_ERRORS, **kw)

    def metric_invocation_model_errors(self, **kw) -> cw.Metric:
        """Requests the model container answered with an error (Sum)."""
        return self.metric(ComponentMetric.INVOCATION_MODEL_ERRORS, **kw)

    def metric_model_setup_time(self, *, statistic: str = Statistic.AVERAGE, **kw) -> cw.Metric:
        """Time to start a new copy, microseconds (Average)."""
        return self.metric(ComponentMetric.MODEL_SETUP_TIME, statistic=statistic, **kw)

    def metric_concurrent_requests_per_copy(self, *, statistic: str = Statistic.MAXIMUM, **kw) -> cw.Metric:
        """Concurrent requests per copy, high resolution (Maximum): the copy-scaling signal."""
        return self.metric(ComponentMetric.CONCURRENT_REQUESTS_PER_COPY, statistic=statistic, **kw)

    def metric_no_capacity_invocation_failures(self, *, statistic: str = Statistic.MAXIMUM, **kw) -> cw.Metric:
        """Requests that found no copy to serve them (Maximum): the scale-out-from-zero signal."""
        return self.metric(ComponentMetric.NO_CAPACITY_INVOCATION_FAILURES, statistic=statistic, **kw)

    def _instance(self, name: str, statistic: str, kw: dict) -> cw.Metric:
        return self.metric(name, namespace=COMPONENT_INSTANCE_NAMESPACE, statistic=statistic, **kw)

    def metric_cpu_utilization(self, *, statistic: str = Statistic.AVERAGE, **kw) -> cw.Metric:
        """Percent of the reserved CPU cores (Average)."""
        return self._instance(ComponentInstanceMetric.CPU_UTILIZATION_NORMALIZED, statistic, kw)

    def metric_memory_utilization(self, *, statistic: str = Statistic.AVERAGE, **kw) -> cw.Metric:
        """Percent of the reserved memory (Average)."""
        return self._instance(ComponentInstanceMetric.MEMORY_UTILIZATION_NORMALIZED, statistic, kw)

    def metric_gpu_utilization(self, *, statistic: str = Statistic.AVERAGE, **kw) -> cw.Metric:
        """Percent of the reserved accelerators (Average)."""
        return self._instance(ComponentInstanceMetric.GPU_UTILIZATION_NORMALIZED, statistic, kw)

    def metric_gpu_memory_utilization(self, *, statistic: str = Statistic.AVERAGE, **kw) -> cw.Metric:
        """Percent of the reserved accelerator memory (Average)."""
        return self._instance(ComponentInstanceMetric.GPU_MEMORY_UTILIZATION_NORMALIZED, statistic, kw)

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to invoke the endpoint (requests name this component)."""
        return self.endpoint.grant_invoke(grantee)

    # -- pieces ------------------------------------------------------------------------------
    def _autoscaling(self) -> appscaling.ScalableTarget | None:
        spec = self.spec.autoscaling
        if spec is None:
            return None
        target = appscaling.ScalableTarget(
            self, "ScalableTarget",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"inference-component/{self.component_name}",
            scalable_dimension=ScalableDimension.COMPONENT_COPY_COUNT,
            min_capacity=spec.min_copies,
            max_capacity=spec.max_copies,
            role=service_linked_role(self),
        )
        target.node.add_dependency(self.component)  # registered once the component exists
        tracking = dict(
            scale_in_cooldown=Duration.seconds(spec.scale_in_cooldown_seconds),
            scale_out_cooldown=Duration.seconds(spec.scale_out_cooldown_seconds),
        )
        if spec.target_concurrent_requests_per_copy:
            target.scale_to_track_metric(
                "ConcurrentRequestsPerCopy", target_value=spec.target_concurrent_requests_per_copy,
                predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_CONCURRENT_REQUESTS_PER_COPY_HIGH_RESOLUTION,
                **tracking,
            )
        if spec.target_invocations_per_copy:
            target.scale_to_track_metric(
                "InvocationsPerCopy", target_value=spec.target_invocations_per_copy,
                predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_INVOCATIONS_PER_COPY,
                **tracking,
            )
        add_schedules(target, spec.schedules)
        if spec.min_copies == 0:
            self.scaling_alarms.append(
                scale_out_from_zero(
                    self, target=target, metric=self.metric_no_capacity_invocation_failures(),
                    alarm_name=f"{self.component_name}-scale-out-from-zero",
                    description=(
                        f"A request to inference component {self.component_name} found no copy: add one "
                        "(target tracking cannot scale out from zero copies)."
                    ),
                    cooldown=Duration.seconds(spec.scale_out_cooldown_seconds), evaluation_periods=1,
                    aggregation=appscaling.MetricAggregationType.MAXIMUM,
                )
            )
        return target
