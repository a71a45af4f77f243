"""``InferenceEndpoint``: a SageMaker endpoint with its model(s), config, scaling, alarms and rollback."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from .. import limits
from ..compliance import acknowledge, nag_resource_id
from ..errors import Problems, is_token
from .base import EndpointBase, ImportedEndpoint, endpoint_arn_for
from .metrics import Statistic
from .specs import (
    AlarmSpec,
    AutoScalingSpec,
    DataCaptureSpec,
    DeploymentSpec,
    DeploymentStrategy,
    EndpointKind,
    VariantSpec,
)

ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repo>[a-z0-9][a-z0-9._/-]*)(?::[\w.-]+|@sha256:[a-f0-9]{64})$"
)
S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<key>.*))?$")
VARIANT_SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
AUTOSCALING_SERVICE_LINKED_ROLE = "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"


class InferenceEndpoint(EndpointBase):
    """A real-time SageMaker endpoint, safe by default.

    Creates per variant a ``CfnModel`` (network isolation on, no physical name so changing the image
    or model data replaces the model instead of failing), one ``CfnEndpointConfig`` (KMS-encrypted
    unless a variant's instance type has local NVMe storage, where SageMaker refuses ``KmsKeyId``),
    the ``CfnEndpoint`` with the stable ``endpoint_name``, a least-privilege execution role (pull
    only the model images' repositories, read only the model data, write only this endpoint's logs
    and data capture prefix), the alarms the endpoint rolls back on (5XX errors; p99 model latency
    when a threshold is set) sent to ``alarm_topic``, blue/green or rolling deployments, and
    target-tracking autoscaling.

    :param endpoint_name: physical name, kept across updates (1-63 chars).
    :param variants: 1-10 production variants with unique names.
    :param encryption_key: encrypts the endpoint storage volumes and data capture; default none.
    :param alarm_topic: receives alarm and OK notifications; default none (alarms without actions).
    :param autoscaling: default none (fixed instance counts).
    :param deployment: default none: SageMaker's default blue/green all-at-once, no rollback alarms.
    :param data_capture: requires ``data_capture_bucket``; default none.
    :param network_isolation: default True: containers make no outbound network calls.
    :param alarms: thresholds; default :class:`AlarmSpec` ().
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint_name: str,
        variants: Sequence[VariantSpec],
        encryption_key: kms.IKey | None = None,
        alarm_topic: sns.ITopic | None = None,
        autoscaling: AutoScalingSpec | None = None,
        deployment: DeploymentSpec | None = None,
        data_capture: DataCaptureSpec | None = None,
        data_capture_bucket: s3.IBucket | None = None,
        network_isolation: bool = True,
        alarms: AlarmSpec = AlarmSpec(),
    ) -> None:
        super().__init__(scope, id)
        self.endpoint_name = endpoint_name
        self.variant_names = tuple(v.name for v in variants)
        self.endpoint_arn = endpoint_arn_for(self, endpoint_name)
        _validate(self.node.path, endpoint_name, variants, autoscaling, deployment, data_capture, data_capture_bucket, alarms)

        self.role = self._execution_role(variants, data_capture_bucket, data_capture, encryption_key)
        self.models: dict[str, sagemaker.CfnModel] = {}
        for variant in variants:
            model = sagemaker.CfnModel(
                self,
                "Model" if variant is variants[0] else f"Model{variant.name}",
                execution_role_arn=self.role.role_arn,
                enable_network_isolation=network_isolation,
                primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                    image=variant.model.image,
                    model_data_url=variant.model.model_data_url,
                    environment=dict(variant.model.environment) or None,
                ),
            )
            model.node.add_dependency(self.execution_policy)
            self.models[variant.name] = model

        self.local_nvme = any(limits.has_local_nvme(v.instance_type) for v in variants)
        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=v.name,
                    model_name=self.models[v.name].attr_model_name,
                    instance_type=v.instance_type,
                    initial_instance_count=v.instance_count,
                    initial_variant_weight=v.weight,
                    volume_size_in_gb=v.volume_size_gb,
                    container_startup_health_check_timeout_in_seconds=v.container_startup_timeout_seconds,
                    model_data_download_timeout_in_seconds=v.model_download_timeout_seconds,
                )
                for v in variants
            ],
            kms_key_id=None if self.local_nvme or encryption_key is None else encryption_key.key_arn,
            data_capture_config=self._data_capture_config(data_capture, data_capture_bucket, encryption_key),
        )
        if self.local_nvme and encryption_key is not None:
            nvme = sorted({v.instance_type for v in variants if limits.has_local_nvme(v.instance_type)})
            acknowledge(
                self.endpoint_config,
                f"{', '.join(nvme)} hosts have local NVMe instance storage, encrypted in hardware; "
                "CreateEndpointConfig fails when KmsKeyId is set for such instance types.",
                "AwsSolutions-SM2",
                "HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured",
                "NIST.800.53.R5-SageMakerEndpointConfigurationKMSKeyConfigured",
                "PCI.DSS.321-SageMakerEndpointConfigurationKMSKeyConfigured",
            )

        self.alarms = self._create_alarms(endpoint_name, alarms, alarm_topic)
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Resource",
            endpoint_name=endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            retain_all_variant_properties=autoscaling is not None,
            deployment_config=self._deployment_config(deployment),
        )
        self.scalable_targets = self._autoscaling(autoscaling)

    @classmethod
    def from_endpoint_name(
        cls,
        scope: Construct,
        id: str,
        endpoint_name: str,
        *,
        variant_names: Sequence[str] = (),
        kind: EndpointKind = EndpointKind.REALTIME,
    ) -> EndpointBase:
        """An endpoint created elsewhere: metrics, ``grant_invoke`` and ``on_state_change`` work on it."""
        return ImportedEndpoint(scope, id, endpoint_name=endpoint_name, variant_names=variant_names, kind=kind)

    # -- pieces ------------------------------------------------------------------------------
    def _execution_role(
        self,
        variants: Sequence[VariantSpec],
        bucket: s3.IBucket | None,
        capture: DataCaptureSpec | None,
        key: kms.IKey | None,
    ) -> iam.Role:
        """Role SageMaker assumes for the models; its statements live in a customer-managed policy
        (``execution_policy``) that the models depend on, so permissions exist before models are created."""
        stack = Stack.of(self)
        role = iam.Role(
            self, "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Execution role of SageMaker endpoint {self.endpoint_name}",
        )
        statements: list[iam.PolicyStatement] = []
        repos, objects = set(), set()
        for v in variants:
            m = ECR_IMAGE.match(v.model.image) if not is_token(v.model.image) else None
            if m:
                repos.add(
                    stack.format_arn(
                        service="ecr", account=m["account"], region=m["region"], resource="repository",
                        resource_name=m["repo"],
                    )
                )
            if v.model.model_data_url:
                s = S3_URI.match(v.model.model_data_url)
                if s:
                    objects.add(f"arn:{stack.partition}:s3:::{s['bucket']}/{s['key']}")
        if repos:
            statements.append(
                iam.PolicyStatement(
                    sid="PullModelImages",
                    actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                    resources=sorted(repos),
                )
            )
        if objects:
            statements.append(iam.PolicyStatement(sid="ReadModelData", actions=["s3:GetObject"], resources=sorted(objects)))
        log_group = stack.format_arn(
            service="logs", resource="log-group", arn_format=ArnFormat.COLON_RESOURCE_NAME,
            resource_name=f"/aws/sagemaker/Endpoints/{self.endpoint_name}",
        )
        statements.append(
            iam.PolicyStatement(
                sid="WriteEndpointLogs",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[log_group, f"{log_group}:log-stream:*"],
            )
        )
        statements.append(
            iam.PolicyStatement(
                sid="AuthenticateToEcrAndPublishMetrics",
                actions=["ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"],
                resources=["*"],
            )
        )
        capture_objects = None
        if capture is not None and bucket is not None:
            capture_objects = bucket.arn_for_objects(f"{capture.prefix}/{self.endpoint_name}/*")
            statements.append(iam.PolicyStatement(sid="WriteDataCapture", actions=["s3:PutObject"], resources=[capture_objects]))
            if key is not None:
                statements.append(
                    iam.PolicyStatement(
                        sid="EncryptDataCapture", actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[key.key_arn]
                    )
                )
        self.execution_policy = iam.ManagedPolicy(
            self, "ExecutionPolicy", statements=statements, roles=[role],
            description=f"Least-privilege permissions of SageMaker endpoint {self.endpoint_name}",
        )
        acknowledge(
            self.execution_policy,
            "ecr:GetAuthorizationToken and cloudwatch:PutMetricData support no resource-level permissions; "
            "image pulls themselves are scoped to the model repositories.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        acknowledge(
            self.execution_policy,
            "Log streams are created by SageMaker per instance under this endpoint's own log group.",
            f"AwsSolutions-IAM5[Resource::{nag_resource_id(self, log_group)}:log-stream:*]",
        )
        if capture_objects is not None:
            acknowledge(
                self.execution_policy,
                "SageMaker writes one capture object per request batch under this endpoint's own prefix.",
                f"AwsSolutions-IAM5[Resource::{nag_resource_id(self, capture_objects)}]",
            )
        return role

    def _data_capture_config(self, capture, bucket, key):
        if capture is None or bucket is None:
            return None
        options = []
        if capture.capture_input:
            options.append(sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Input"))
        if capture.capture_output:
            options.append(sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Output"))
        return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
            enable_capture=True,
            initial_sampling_percentage=capture.sampling_percent,
            destination_s3_uri=bucket.s3_url_for_object(f"{capture.prefix}/{self.endpoint_name}"),
            kms_key_id=key.key_arn if key is not None else None,
            capture_options=options,
        )

    def _create_alarms(self, endpoint_name: str, spec: AlarmSpec, topic: sns.ITopic | None) -> list[cw.Alarm]:
        if len(self.variant_names) == 1:
            errors: cw.IMetric = self.metric_invocation_5xx_errors()
        else:
            using = {f"v{i}": self.metric_invocation_5xx_errors(variant_name=v) for i, v in enumerate(self.variant_names)}
            errors = cw.MathExpression(
                expression="+".join(using), using_metrics=using, label="5XX errors, all variants",
                period=Duration.minutes(1),
            )
        alarms = [
            cw.Alarm(
                self, "Errors5xxAlarm",
                alarm_name=f"{endpoint_name}-5xx-errors",
                alarm_description=(
                    f"Endpoint {endpoint_name} answered >= {spec.errors_5xx_threshold} 5XX per minute. "
                    "Look first at the model container logs in /aws/sagemaker/Endpoints/" + endpoint_name
                ),
                metric=errors,
                threshold=spec.errors_5xx_threshold,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=spec.evaluation_periods,
                datapoints_to_alarm=spec.datapoints_to_alarm,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            )
        ]
        if spec.p99_latency_ms is not None:
            alarms.append(
                cw.Alarm(
                    self, "LatencyP99Alarm",
                    alarm_name=f"{endpoint_name}-p99-model-latency",
                    alarm_description=(
                        f"p99 ModelLatency of {endpoint_name} above {spec.p99_latency_ms} ms. Look first at "
                        "GPU utilization and the instance count (is autoscaling at max?)."
                    ),
                    metric=self.metric_model_latency(statistic=Statistic.P99),
                    threshold=spec.p99_latency_ms * 1000,  # ModelLatency is in microseconds
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

    def _deployment_config(self, spec: DeploymentSpec | None):
        if spec is None:
            return None
        P = sagemaker.CfnEndpoint
        wait = spec.wait_minutes * 60
        rollback = P.AutoRollbackConfigProperty(
            alarms=[P.AlarmProperty(alarm_name=a.alarm_name) for a in self.alarms]
        )
        max_exec = spec.max_execution_minutes * 60 if spec.max_execution_minutes else None
        if spec.strategy is DeploymentStrategy.ROLLING:
            return P.DeploymentConfigProperty(
                auto_rollback_configuration=rollback,
                rolling_update_policy=P.RollingUpdatePolicyProperty(
                    maximum_batch_size=P.CapacitySizeProperty(type="CAPACITY_PERCENT", value=spec.step_percent),
                    wait_interval_in_seconds=wait,
                    maximum_execution_timeout_in_seconds=max_exec,
                ),
            )
        routing = {
            DeploymentStrategy.ALL_AT_ONCE: P.TrafficRoutingConfigProperty(type="ALL_AT_ONCE", wait_interval_in_seconds=wait),
            DeploymentStrategy.CANARY: P.TrafficRoutingConfigProperty(
                type="CANARY", wait_interval_in_seconds=wait,
                canary_size=P.CapacitySizeProperty(type="CAPACITY_PERCENT", value=spec.canary_percent),
            ),
            DeploymentStrategy.LINEAR: P.TrafficRoutingConfigProperty(
                type="LINEAR", wait_interval_in_seconds=wait,
                linear_step_size=P.CapacitySizeProperty(type="CAPACITY_PERCENT", value=spec.step_percent),
            ),
        }[spec.strategy]
        return P.DeploymentConfigProperty(
            auto_rollback_configuration=rollback,
            blue_green_update_policy=P.BlueGreenUpdatePolicyProperty(
                traffic_routing_configuration=routing,
                termination_wait_in_seconds=spec.termination_wait_minutes * 60,
                maximum_execution_timeout_in_seconds=max_exec,
            ),
        )

    def _autoscaling(self, spec: AutoScalingSpec | None) -> dict[str, appscaling.ScalableTarget]:
        targets: dict[str, appscaling.ScalableTarget] = {}
        if spec is None:
            return targets
        stack = Stack.of(self)
        # Application Auto Scaling acts for SageMaker through its service-linked role (created on first
        # use); an extra role would be unused.
        service_linked_role = iam.Role.from_role_arn(
            self, "AutoScalingServiceLinkedRole",
            f"arn:{stack.partition}:iam::{stack.account}:role/aws-service-role/"
            f"sagemaker.application-autoscaling.amazonaws.com/{AUTOSCALING_SERVICE_LINKED_ROLE}",
        )
        for variant in self.variant_names:
            target = appscaling.ScalableTarget(
                self, f"ScalableTarget{variant}",
                service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
                resource_id=f"endpoint/{self.endpoint_name}/variant/{variant}",
                scalable_dimension=VARIANT_SCALABLE_DIMENSION,
                min_capacity=spec.min_capacity,
                max_capacity=spec.max_capacity,
                role=service_linked_role,
            )
            target.node.add_dependency(self.endpoint)  # the variant must exist before it is registered
            target.scale_to_track_metric(
                "InvocationsPerInstance",
                target_value=spec.target_invocations_per_instance,
                predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
                scale_in_cooldown=Duration.seconds(spec.scale_in_cooldown_seconds),
                scale_out_cooldown=Duration.seconds(spec.scale_out_cooldown_seconds),
            )
            targets[variant] = target
        return targets



def _validate(path, name, variants, scaling, deployment, capture, capture_bucket, alarms) -> None:
    p = Problems(f"InferenceEndpoint {path}")
    p.check(bool(limits.NAME_PATTERN.match(name)), "endpoint_name", name, limits.NAME_RULE)
    p.check(
        1 <= len(variants) <= limits.MAX_PRODUCTION_VARIANTS, "variants", len(variants),
        f"1-{limits.MAX_PRODUCTION_VARIANTS} production variants",
    )
    seen = set()
    for i, v in enumerate(variants):
        w = f"variants[{i}]"
        p.check(bool(limits.NAME_PATTERN.match(v.name)), f"{w}.name", v.name, limits.NAME_RULE)
        p.check(v.name not in seen, f"{w}.name", v.name, "a variant name unique within the endpoint")
        seen.add(v.name)
        p.check(
            v.instance_type in limits.endpoint_instance_types(), f"{w}.instance_type", v.instance_type,
            limits.describe_choices(limits.endpoint_instance_types()) + " (botocore ProductionVariantInstanceType)",
        )
        p.check(isinstance(v.instance_count, int) and v.instance_count >= 1, f"{w}.instance_count", v.instance_count, "an integer >= 1")
        p.check(v.weight >= 0, f"{w}.weight", v.weight, "a weight >= 0")
        p.check(bool(ECR_IMAGE.match(v.model.image)), f"{w}.model.image", v.model.image, "an ECR image URI account.dkr.ecr.region.amazonaws.com/repo:tag")
        if v.model.model_data_url is not None:
            p.check(bool(S3_URI.match(v.model.model_data_url)), f"{w}.model.model_data_url", v.model.model_data_url, "an s3://bucket/key URI")
        if v.volume_size_gb is not None:
            lo, hi = limits.VARIANT_VOLUME_GB
            p.check(lo <= v.volume_size_gb <= hi, f"{w}.volume_size_gb", v.volume_size_gb, f"{lo}-{hi} GB")
        for attr in ("container_startup_timeout_seconds", "model_download_timeout_seconds"):
            value = getattr(v, attr)
            if value is not None:
                lo, hi = limits.VARIANT_TIMEOUT_S
                p.check(lo <= value <= hi, f"{w}.{attr}", value, f"{lo}-{hi} seconds")
    if variants and not any(is_token(v.weight) for v in variants):
        p.check(sum(v.weight for v in variants) > 0, "variants[*].weight", [v.weight for v in variants], "a total weight > 0")
    if scaling is not None:
        p.check(scaling.min_capacity >= 1, "autoscaling.min_capacity", scaling.min_capacity, ">= 1 for instance-based real-time variants")
        p.check(scaling.min_capacity <= scaling.max_capacity, "autoscaling.min_capacity", scaling.min_capacity, f"<= max_capacity ({scaling.max_capacity})")
        for i, v in enumerate(variants):
            p.check(
                scaling.min_capacity <= v.instance_count <= scaling.max_capacity, f"variants[{i}].instance_count",
                v.instance_count, f"between min_capacity ({scaling.min_capacity}) and max_capacity ({scaling.max_capacity})",
            )
            p.check(not limits.is_burstable(v.instance_type), f"variants[{i}].instance_type", v.instance_type, "no autoscaling on burstable ml.t* instances")
        p.check(scaling.target_invocations_per_instance > 0, "autoscaling.target_invocations_per_instance", scaling.target_invocations_per_instance, "> 0")
    if deployment is not None:
        d = deployment
        p.check(1 <= d.canary_percent <= 50, "deployment.canary_percent", d.canary_percent, "1-50 % of the fleet")
        p.check(10 <= d.step_percent <= 50, "deployment.step_percent", d.step_percent, "10-50 %")
        p.check(0 <= d.wait_minutes * 60 <= 3600, "deployment.wait_minutes", d.wait_minutes, "0-60 minutes")
        p.check(0 <= d.termination_wait_minutes * 60 <= 3600, "deployment.termination_wait_minutes", d.termination_wait_minutes, "0-60 minutes")
        if d.max_execution_minutes is not None:
            p.check(
                600 <= d.max_execution_minutes * 60 <= 28800 and d.max_execution_minutes > d.wait_minutes + d.termination_wait_minutes,
                "deployment.max_execution_minutes", d.max_execution_minutes,
                "10-480 minutes and more than wait_minutes + termination_wait_minutes",
            )
        if d.strategy is DeploymentStrategy.ROLLING:
            p.check(len(variants) == 1, "deployment.strategy", d.strategy.value, "rolling updates only for single-variant endpoints")
    if capture is not None:
        lo, hi = limits.SAMPLING_PERCENT
        p.check(lo <= capture.sampling_percent <= hi, "data_capture.sampling_percent", capture.sampling_percent, f"{lo}-{hi}")
        p.check(capture.capture_input or capture.capture_output, "data_capture", "neither input nor output", "capture input, output or both")
        p.check(capture_bucket is not None, "data_capture_bucket", None, "a bucket when data_capture is set")
    p.check(alarms.evaluation_periods >= 1, "alarms.evaluation_periods", alarms.evaluation_periods, ">= 1")
    p.check(
        1 <= alarms.datapoints_to_alarm <= alarms.evaluation_periods, "alarms.datapoints_to_alarm", alarms.datapoints_to_alarm,
        f"1-evaluation_periods ({alarms.evaluation_periods})",
    )
    p.raise_if_any()
