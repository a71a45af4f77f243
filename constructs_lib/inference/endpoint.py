"""``InferenceEndpoint``: a SageMaker endpoint of any kind with its models, config, scaling, alarms and rollback."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from aws_cdk.aws_sagemaker import CfnEndpointConfig
from constructs import Construct

from .._security_group_rules import wait_for_security_group_rules
from ..compliance import acknowledge
from ..observability.alarms import AlarmFactory, Severity
from ..observability.endpoint_signals import (
    SIGNALS_BY_KEY,
    EndpointAlarmThresholds,
    SignalContext,
    signal_alarms,
    watched_signals,
)
from ._role import ExecutionRoleRequest, Grant, build_execution_role
from ._scaling import add_schedules, scale_out_from_zero, service_linked_role
from ._update_guard import (
    KIND_INFERENCE_COMPONENTS,
    KIND_INSTANCES,
    UpdateGuard,
    instance_types_fingerprint,
    scaling_properties,
)
from ._validation import validate_endpoint
from .base import EndpointBase, ImportedEndpoint, endpoint_arn_for
from .component import InferenceComponent, construct_id
from .kinds import traits_of
from .metrics import INSTANCE_NAMESPACE, EndpointMetric, ScalableDimension
from .specs import (
    AsyncInferenceSpec,
    AutoScalingSpec,
    ComponentSpec,
    DataCaptureSpec,
    DeploymentSpec,
    DeploymentStrategy,
    EndpointKind,
    ModelSpec,
    PromotedModel,
    ShadowVariantSpec,
    VariantSpec,
)


class InferenceEndpoint(EndpointBase):
    """A SageMaker endpoint of any :class:`EndpointKind`, safe by default.

    Creates per variant (and shadow variant) a ``CfnModel`` (network isolation on, no physical name so
    changing the image or model data replaces the model instead of failing), one ``CfnEndpointConfig``
    (no physical name either; ``KmsKeyId`` = ``encryption_key`` for every instance type, see
    ``volume_kms_key``), the ``CfnEndpoint`` with the stable ``endpoint_name``, a
    least-privilege execution role, blue/green or rolling deployments that roll back on the critical
    alarms of the signals the deployment watches (``deployment.rollback_signals``: 5XX rate and p99
    model latency by default; created here through the alarm factory and the signal registry, named
    ``<endpoint>-5xx-rate-critical`` and ``<endpoint>-p99-model-latency-critical``, sent to
    ``alarm_topic``), and autoscaling.

    Kinds (``kind``):

    - ``REALTIME``: 1-10 instance variants with weights; optionally one shadow variant next to one
      production variant.
    - ``SERVERLESS``: one variant with ``serverless`` capacity and no instance type; no VPC, network
      isolation, data capture or shadow variants (SageMaker supports none of them there).
    - ``ASYNC``: instance variants; results and failures under ``s3://<async_output_bucket>/async/<name>/``,
      KMS-encrypted, with success and error SNS topics created here (``async_success_topic``,
      ``async_error_topic``); may scale to zero on its backlog.
    - ``MULTI_MODEL``: a ``Mode: MultiModel`` container loading models from ``model.model_data_prefix``.
    - ``INFERENCE_COMPONENTS``: variants without models (instances only, with managed instance
      scaling); ``components`` become :class:`InferenceComponent` children (``components`` dict).

    :param endpoint_name: physical name, kept across updates (1-63 chars).
    :param variants: 1-10 production variants with unique names.
    :param kind: default ``REALTIME``.
    :param shadow_variants: realtime only; default none.
    :param encryption_key: encrypts storage volumes, data capture, async results and topics; default none
        (required for ``ASYNC``).
    :param volume_kms_key: default True: the endpoint config's ``KmsKeyId`` is ``encryption_key``, on every
        instance type. The current ``CreateEndpointConfig`` reference (``CreateEndpointConfigInput.KmsKeyId`` in
        botocore 1.44) says that for instance types with local NVMe storage the key only "does not encrypt
        instance local storage" (encrypted in hardware); SCPs requiring ``sagemaker:VolumeKmsKey`` deny configs
        without it. False omits ``KmsKeyId`` (SageMaker then encrypts the volumes with an AWS managed key), for
        accounts that still see the older behaviour, where the call failed for such instance types. Data
        capture and async results stay encrypted with ``encryption_key`` either way.
    :param alarm_topic: receives alarm and OK notifications of the rollback alarms; default none (no
        actions: ``EndpointMonitoring`` adopts them and notifies through its rollup, so leave it unset
        when the endpoint is monitored, or one incident notifies twice).
    :param autoscaling: default none (fixed capacity).
    :param deployment: default none: SageMaker's default blue/green all-at-once, no rollback alarms.
    :param data_capture: requires ``data_capture_bucket``; default none.
    :param network_isolation: default True (False for serverless, which does not support it).
    :param alarms: alarm thresholds by signal (``EndpointAlarmThresholds``, the same object
        ``EndpointMonitoring`` takes); the rollback alarms use the critical ones; default the signals' defaults.
    :param async_inference: ``ASYNC`` settings; default :class:`AsyncInferenceSpec` () for that kind.
    :param async_output_bucket: bucket of the async results (required for ``ASYNC``).
    :param components: ``INFERENCE_COMPONENTS`` only; default none.
    :param vpc: place the models in this VPC; default none. ``vpc_subnets`` default: the private
        subnets; ``security_groups`` default: one created here allowing only outbound HTTPS.

    A variant whose ``ModelSpec.promoted`` is set reads its image and model data at deploy time from
    the promotion's SSM parameters (template parameters of type ``AWS::SSM::Parameter::Value<String>``);
    ``promoted_models`` maps those variants to their :class:`PromotedModel`, which
    ``DeployTarget.for_endpoint`` passes to the promotion.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint_name: str,
        variants: Sequence[VariantSpec],
        kind: EndpointKind = EndpointKind.REALTIME,
        shadow_variants: Sequence[ShadowVariantSpec] = (),
        encryption_key: kms.IKey | None = None,
        volume_kms_key: bool = True,
        alarm_topic: sns.ITopic | None = None,
        autoscaling: AutoScalingSpec | None = None,
        deployment: DeploymentSpec | None = None,
        data_capture: DataCaptureSpec | None = None,
        data_capture_bucket: s3.IBucket | None = None,
        network_isolation: bool | None = None,
        alarms: EndpointAlarmThresholds = EndpointAlarmThresholds(),
        async_inference: AsyncInferenceSpec | None = None,
        async_output_bucket: s3.IBucket | None = None,
        components: Sequence[ComponentSpec] = (),
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] = (),
    ) -> None:
        super().__init__(scope, id)
        self.kind = kind
        self.endpoint_name = endpoint_name
        self.variant_names = tuple(v.name for v in variants)
        self.shadow_variant_names = tuple(v.name for v in shadow_variants)
        self.instance_types = tuple(dict.fromkeys(v.instance_type for v in variants if v.instance_type))
        self.capacity_bounds = (autoscaling.min_capacity, autoscaling.max_capacity) if autoscaling else (None, None)
        self.endpoint_arn = endpoint_arn_for(self, endpoint_name)
        traits = traits_of(kind)
        isolation = (not traits.network_isolation_not) if network_isolation is None else network_isolation
        subnet_ids: list[str] = []
        if vpc is not None:
            sel = vpc_subnets or ec2.SubnetSelection()
            subnet_ids = list(
                vpc.select_subnets(
                    availability_zones=sel.availability_zones, one_per_az=sel.one_per_az, subnet_filters=sel.subnet_filters,
                    subnet_group_name=sel.subnet_group_name, subnets=sel.subnets, subnet_type=sel.subnet_type,
                ).subnet_ids
            )
        if traits.queued and async_inference is None:
            async_inference = AsyncInferenceSpec()
        validate_endpoint(
            self.node.path, name=endpoint_name, kind=kind, variants=variants, shadow_variants=shadow_variants,
            scaling=autoscaling, deployment=deployment, capture=data_capture,
            capture_bucket_name=data_capture_bucket.bucket_name if data_capture_bucket else None,
            has_capture_bucket=data_capture_bucket is not None, alarms=alarms, async_spec=async_inference,
            async_bucket_name=async_output_bucket.bucket_name if async_output_bucket else None,
            has_async_bucket=async_output_bucket is not None, has_key=encryption_key is not None,
            components=components, network_isolation=network_isolation, has_vpc=vpc is not None,
            security_group_count=len(security_groups) or 1, subnet_count=len(subnet_ids) if vpc else None,
        )

        self.security_groups: list[ec2.ISecurityGroup] = list(security_groups)
        if vpc is not None and not security_groups:
            group = ec2.SecurityGroup(
                self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
                description=f"SageMaker endpoint {endpoint_name}: outbound HTTPS only, no inbound",
            )
            group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to S3, ECR and AWS APIs")
            self.security_groups = [group]
        vpc_config = (
            {"subnets": subnet_ids, "security_group_ids": [g.security_group_id for g in self.security_groups]}
            if vpc is not None else None
        )

        self.async_success_topic: sns.Topic | None = None
        self.async_error_topic: sns.Topic | None = None
        # s3:// URLs of the async input, output and failure prefixes (ASYNC only)
        self.async_paths: dict[str, str] = {}
        grants = self._grants(data_capture, data_capture_bucket, async_inference, async_output_bucket, encryption_key)
        models = [v.model for v in (*variants, *shadow_variants) if v.model is not None]
        self.role, self.execution_policy = build_execution_role(
            self,
            ExecutionRoleRequest(
                endpoint_name=endpoint_name, description=f"Execution role of SageMaker endpoint {endpoint_name}",
                models=models, key=encryption_key, grants=grants, in_vpc=vpc is not None,
            ),
        )

        self.models: dict[str, sagemaker.CfnModel] = {}
        # Production variants whose model is read from a promotion's SSM parameters (ModelSpec.promoted).
        self.promoted_models: dict[str, PromotedModel] = {
            v.name: v.model.promoted for v in variants if v.model is not None and v.model.promoted is not None
        }
        multi_model = kind is EndpointKind.MULTI_MODEL
        for variant in variants:
            if variant.model is not None:
                self.models[variant.name] = self._model(
                    "Model" if variant is variants[0] else f"Model{variant.name}", variant.model, isolation, vpc_config, multi_model
                )
        for shadow in shadow_variants:
            if shadow.model is not None:
                self.models[shadow.name] = self._model(f"ShadowModel{shadow.name}", shadow.model, isolation, vpc_config, False)

        production_weight = variants[0].weight if variants else 1.0
        components_mode = kind is EndpointKind.INFERENCE_COMPONENTS
        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            production_variants=[self._variant(v, v.weight) for v in variants],
            shadow_production_variants=[
                self._variant(v, round(production_weight * v.sampling_percent / 100, 6)) for v in shadow_variants
            ] or None,
            kms_key_id=encryption_key.key_arn if encryption_key is not None and volume_kms_key else None,
            data_capture_config=self._data_capture_config(data_capture, data_capture_bucket, encryption_key),
            async_inference_config=self._async_config(async_inference, async_output_bucket, encryption_key),
            execution_role_arn=self.role.role_arn if components_mode else None,
            enable_network_isolation=isolation if components_mode else None,
            vpc_config=CfnEndpointConfig.VpcConfigProperty(**vpc_config) if components_mode and vpc_config else None,
        )
        if components_mode and vpc_config:
            wait_for_security_group_rules(self.endpoint_config, self.security_groups)
        if encryption_key is not None and not volume_kms_key:
            acknowledge(
                self.endpoint_config,
                "volume_kms_key=False: KmsKeyId omitted by the owner's choice for an account where CreateEndpointConfig "
                "still refuses it on local-NVMe instance types; SageMaker encrypts the volumes with an AWS managed key "
                "and local NVMe storage in hardware.",
                "AwsSolutions-SM2",
                "HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured",
                "NIST.800.53.R5-SageMakerEndpointConfigurationKMSKeyConfigured",
                "PCI.DSS.321-SageMakerEndpointConfigurationKMSKeyConfigured",
            )

        self.alarms: list[cw.Alarm] = []
        self.signal_alarms: Mapping[str, Sequence[cw.Alarm]] = MappingProxyType({})
        self._create_rollback_alarms(endpoint_name, deployment, alarms, alarm_topic)
        self.rollback_alarms: tuple[cw.Alarm, ...] = tuple(self.alarms)
        self.deployment_config: Mapping[str, Any] | None = self._deployment_api_config(deployment)
        retain = (
            autoscaling is not None
            or any(v.managed_scaling is not None for v in variants)
        )
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Resource",
            endpoint_name=endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            retain_all_variant_properties=retain,
            deployment_config=self._deployment_config(self.deployment_config),
        )
        self.in_service_after = self.endpoint
        self.scaling_alarms: list[cw.Alarm] = []
        self.update_guard = self._update_guard(autoscaling, variants, encryption_key)
        self.scalable_targets = self._autoscaling(autoscaling, variants)

        self.components: dict[str, InferenceComponent] = {}
        for spec in components:
            component = InferenceComponent(
                self, construct_id(spec.name.removeprefix(f"{endpoint_name}-"), "Component"), endpoint=self, spec=spec,
                network_isolation=isolation,
            )
            self.components[spec.name] = component
            self._inference_component_names += (component.component_name,)
            self.scaling_alarms.extend(component.scaling_alarms)

    @classmethod
    def from_endpoint_name(
        cls,
        scope: Construct,
        id: str,
        endpoint_name: str,
        *,
        variant_names: Sequence[str] = (),
        kind: EndpointKind = EndpointKind.REALTIME,
        inference_component_names: Sequence[str] = (),
    ) -> EndpointBase:
        """An endpoint created elsewhere: metrics, ``grant_invoke`` and ``on_state_change`` work on it."""
        return ImportedEndpoint(
            scope, id, endpoint_name=endpoint_name, variant_names=variant_names, kind=kind,
            inference_component_names=inference_component_names,
        )

    # -- pieces ------------------------------------------------------------------------------
    def _grants(self, capture, capture_bucket, async_spec, async_bucket, key) -> list[Grant]:
        grants: list[Grant] = []
        if capture is not None and capture_bucket is not None:
            objects = capture_bucket.arn_for_objects(f"{capture.prefix}/{self.endpoint_name}/*")
            grants.append(
                Grant(
                    iam.PolicyStatement(sid="WriteDataCapture", actions=["s3:PutObject"], resources=[objects]),
                    [objects], "SageMaker writes one capture object per request batch under this endpoint's own prefix.",
                )
            )
        if async_spec is not None and async_bucket is not None and key is not None:
            base = f"{async_spec.prefix}/{self.endpoint_name}"
            self.async_paths = {part: async_bucket.s3_url_for_object(f"{base}/{part}") for part in ("input", "output", "failure")}
            results = [async_bucket.arn_for_objects(f"{base}/{part}/*") for part in ("output", "failure")]
            inputs = async_bucket.arn_for_objects(f"{base}/input/*")
            self.async_success_topic = sns.Topic(
                self, "AsyncSuccessTopic", master_key=key, enforce_ssl=True,
                display_name=f"{self.endpoint_name} async inference results",
            )
            self.async_error_topic = sns.Topic(
                self, "AsyncErrorTopic", master_key=key, enforce_ssl=True,
                display_name=f"{self.endpoint_name} async inference failures",
            )
            grants += [
                Grant(
                    iam.PolicyStatement(sid="ReadAsyncInput", actions=["s3:GetObject"], resources=[inputs]),
                    [inputs], "Callers upload one payload object per request under this endpoint's own input prefix.",
                ),
                Grant(
                    iam.PolicyStatement(sid="WriteAsyncResults", actions=["s3:PutObject"], resources=results),
                    results, "SageMaker writes one result or failure object per request under this endpoint's own prefixes.",
                ),
                Grant(
                    iam.PolicyStatement(
                        sid="PublishAsyncNotifications", actions=["sns:Publish"],
                        resources=[self.async_success_topic.topic_arn, self.async_error_topic.topic_arn],
                    )
                ),
            ]
        return grants

    def _model(self, id: str, model: ModelSpec, isolation: bool, vpc_config: dict | None, multi_model: bool) -> sagemaker.CfnModel:
        image, model_data_url = model.image, model.model_data_prefix if multi_model else model.model_data_url
        promoted = model.promoted
        if promoted is not None:
            # Template parameters of type AWS::SSM::Parameter::Value<String> (one per name and stack):
            # CloudFormation reads the promotion's latest values on every deploy.
            image = ssm.StringParameter.value_for_string_parameter(self, promoted.image_parameter)
            if promoted.model_data_parameter is not None:
                model_data_url = ssm.StringParameter.value_for_string_parameter(self, promoted.model_data_parameter)
        cfn = sagemaker.CfnModel(
            self,
            id,
            execution_role_arn=self.role.role_arn,
            enable_network_isolation=isolation,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=image,
                model_data_url=model_data_url,
                environment=dict(model.environment) or None,
                mode="MultiModel" if multi_model else None,
            ),
            vpc_config=sagemaker.CfnModel.VpcConfigProperty(**vpc_config) if vpc_config else None,
        )
        if vpc_config:  # instances start with the endpoint: the groups' separate rules must exist by then
            wait_for_security_group_rules(cfn, self.security_groups)
        return cfn

    def _variant(self, v: VariantSpec, weight: float) -> CfnEndpointConfig.ProductionVariantProperty:
        model = self.models.get(v.name)
        pools = (
            [CfnEndpointConfig.InstancePoolProperty(instance_type=t, priority=i + 1) for i, t in enumerate(v.instance_types)]
            if v.fallback_instance_types else None
        )
        s = v.serverless if self.kind is EndpointKind.SERVERLESS else None
        return CfnEndpointConfig.ProductionVariantProperty(
            variant_name=v.name,
            model_name=model.attr_model_name if model is not None else None,
            instance_type=None if pools or s else v.instance_type,
            instance_pools=pools,
            variant_instance_provision_timeout_in_seconds=v.provision_timeout_seconds,
            initial_instance_count=None if s else v.instance_count,
            initial_variant_weight=weight,
            volume_size_in_gb=v.volume_size_gb,
            container_startup_health_check_timeout_in_seconds=v.container_startup_timeout_seconds,
            model_data_download_timeout_in_seconds=v.model_download_timeout_seconds,
            serverless_config=CfnEndpointConfig.ServerlessConfigProperty(
                memory_size_in_mb=s.memory_mb, max_concurrency=s.max_concurrency,
                provisioned_concurrency=s.provisioned_concurrency,
            ) if s else None,
            routing_config=CfnEndpointConfig.RoutingConfigProperty(routing_strategy=v.routing.value) if v.routing else None,
            managed_instance_scaling=CfnEndpointConfig.ManagedInstanceScalingProperty(
                status="ENABLED", min_instance_count=v.managed_scaling.min_instances,
                max_instance_count=v.managed_scaling.max_instances,
            ) if v.managed_scaling else None,
        )

    def _data_capture_config(self, capture, bucket, key):
        if capture is None or bucket is None:
            return None
        options = []
        if capture.capture_input:
            options.append(CfnEndpointConfig.CaptureOptionProperty(capture_mode="Input"))
        if capture.capture_output:
            options.append(CfnEndpointConfig.CaptureOptionProperty(capture_mode="Output"))
        return CfnEndpointConfig.DataCaptureConfigProperty(
            enable_capture=True,
            initial_sampling_percentage=capture.sampling_percent,
            destination_s3_uri=bucket.s3_url_for_object(f"{capture.prefix}/{self.endpoint_name}"),
            kms_key_id=key.key_arn if key is not None else None,
            capture_options=options,
        )

    def _async_config(self, spec: AsyncInferenceSpec | None, bucket, key):
        if spec is None or self.async_success_topic is None or self.async_error_topic is None:
            return None
        limit = spec.max_concurrent_invocations_per_instance
        return CfnEndpointConfig.AsyncInferenceConfigProperty(
            output_config=CfnEndpointConfig.AsyncInferenceOutputConfigProperty(
                s3_output_path=self.async_paths["output"],
                s3_failure_path=self.async_paths["failure"],
                kms_key_id=key.key_arn,
                notification_config=CfnEndpointConfig.AsyncInferenceNotificationConfigProperty(
                    success_topic=self.async_success_topic.topic_arn,
                    error_topic=self.async_error_topic.topic_arn,
                ),
            ),
            client_config=CfnEndpointConfig.AsyncInferenceClientConfigProperty(max_concurrent_invocations_per_instance=limit) if limit else None,
        )

    def _create_rollback_alarms(
        self, endpoint_name: str, deployment: DeploymentSpec | None, thresholds: EndpointAlarmThresholds,
        topic: sns.ITopic | None,
    ) -> None:
        """The rollback alarms: the critical alarms of the signals the deployment watches, through the alarm
        factory and the signal registry (the very alarms ``EndpointMonitoring`` would create for them).

        AWS, "Auto-Rollback Configuration and Monitoring": alarms on ``EndpointName, VariantName`` see
        both fleets during a blue/green deployment, and any of them in ALARM during the deployment rolls
        it back. The 5XX rate alarm has no low-traffic guard on purpose: a canary bakes for minutes, and
        a guard of N requests per window would keep a low-traffic endpoint's alarm silent through the
        whole bake; a needless rollback costs a redeploy, a missed one an outage."""
        names = watched_signals(deployment, thresholds, self.kind)
        if not names:
            return
        factory = AlarmFactory(self, prefix=endpoint_name, routing={Severity.CRITICAL: topic} if topic else None)
        context = SignalContext(
            endpoint=self, evaluation_periods=thresholds.evaluation_periods,
            datapoints_to_alarm=thresholds.datapoints_to_alarm,
        )
        by_key = signal_alarms(
            factory, context, thresholds, signals=[SIGNALS_BY_KEY[n] for n in names], severities=(Severity.CRITICAL,),
        )
        self.signal_alarms = MappingProxyType({k: tuple(v) for k, v in by_key.items()})
        self.alarms = [a for alarms in by_key.values() for a in alarms]
        self.alarms_routed = topic is not None and bool(self.alarms)
        if self.alarms:
            # "Ensure that your IAM execution role has permission to perform the cloudwatch:DescribeAlarms
            # action on the auto-rollback alarms you specify" (SageMaker guide, "Auto-Rollback Configuration
            # and Monitoring"): on exactly these alarms (resource type alarm, service authorization reference).
            self.execution_policy.add_statements(iam.PolicyStatement(
                sid="DescribeRollbackAlarms", actions=["cloudwatch:DescribeAlarms"],
                resources=[a.alarm_arn for a in self.alarms],
            ))

    def _deployment_api_config(self, spec: DeploymentSpec | None) -> dict[str, Any] | None:
        """``DeploymentConfig`` as ``UpdateEndpoint`` takes it (``PascalCase``, rollback alarms by name)."""
        if spec is None:
            return None
        wait = spec.wait_minutes * 60
        config: dict[str, Any] = {}
        if self.alarms:
            config["AutoRollbackConfiguration"] = {
                "Alarms": [{"AlarmName": a.node.default_child.alarm_name} for a in self.alarms]
            }
        max_exec = {"MaximumExecutionTimeoutInSeconds": spec.max_execution_minutes * 60} if spec.max_execution_minutes else {}
        if spec.strategy is DeploymentStrategy.ROLLING:
            config["RollingUpdatePolicy"] = {
                "MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": spec.step_percent},
                "WaitIntervalInSeconds": wait, **max_exec,
            }
            return config
        routing: dict[str, Any] = {"Type": {
            DeploymentStrategy.ALL_AT_ONCE: "ALL_AT_ONCE", DeploymentStrategy.CANARY: "CANARY",
            DeploymentStrategy.LINEAR: "LINEAR",
        }[spec.strategy], "WaitIntervalInSeconds": wait}
        if spec.strategy is DeploymentStrategy.CANARY:
            routing["CanarySize"] = {"Type": "CAPACITY_PERCENT", "Value": spec.canary_percent}
        if spec.strategy is DeploymentStrategy.LINEAR:
            routing["LinearStepSize"] = {"Type": "CAPACITY_PERCENT", "Value": spec.step_percent}
        config["BlueGreenUpdatePolicy"] = {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": spec.termination_wait_minutes * 60, **max_exec,
        }
        return config

    def _deployment_config(self, api: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The CloudFormation property, from the API shape: the same keys in ``camelCase`` (what the L1
        takes), each rollback alarm by ``Ref``, so the endpoint waits for its alarms."""
        if api is None:
            return None
        refs = {a.node.default_child.alarm_name: a.alarm_name for a in self.alarms}

        def cfn(value: Any, key: str = "") -> Any:
            if isinstance(value, Mapping):
                return {k[:1].lower() + k[1:]: cfn(v, k) for k, v in value.items()}
            if isinstance(value, list):
                return [cfn(v) for v in value]
            return refs.get(value, value) if key == "AlarmName" else value

        return cfn(api)

    def _variant_resource_id(self, variant: str) -> str:
        return f"endpoint/{self.endpoint_name}/variant/{variant}"

    def _update_guard(self, spec: AutoScalingSpec | None, variants: Sequence[VariantSpec], key) -> UpdateGuard | None:
        """The custom resources that let an autoscaled variant change instance type in one deploy, and stop
        an inference-component endpoint's instance-type change before anything changes (``_update_guard``).
        Serverless variants have no instance type to change."""
        if self.kind is EndpointKind.INFERENCE_COMPONENTS:
            kind, scaling = KIND_INFERENCE_COMPONENTS, None
        elif spec is not None and traits_of(self.kind).scalable_dimension == ScalableDimension.VARIANT_INSTANCE_COUNT:
            kind = KIND_INSTANCES
            scaling = {
                v.name: scaling_properties(
                    resource_id=self._variant_resource_id(v.name), dimension=ScalableDimension.VARIANT_INSTANCE_COUNT,
                    min_capacity=spec.min_capacity, max_capacity=spec.max_capacity, schedules=spec.schedules,
                )
                for v in variants
            }
        else:
            return None
        guard = UpdateGuard(
            self, "UpdateGuard", endpoint_name=self.endpoint_name, endpoint_arn=self.endpoint_arn, kind=kind,
            variants=variants, scaling=scaling, key=key,
        )
        # before -> endpoint config, endpoint -> after -> scalable targets (see _autoscaling)
        self.endpoint_config.node.add_dependency(guard.before)
        self.endpoint.node.add_dependency(guard.before)
        if guard.after is not None:
            guard.after.node.add_dependency(self.endpoint)
        return guard

    def _autoscaling(self, spec: AutoScalingSpec | None, variants: Sequence[VariantSpec]) -> dict[str, appscaling.ScalableTarget]:
        targets: dict[str, appscaling.ScalableTarget] = {}
        traits = traits_of(self.kind)
        if spec is None or traits.scalable_dimension is None:
            return targets
        role = service_linked_role(self)
        in_cooldown = Duration.seconds(spec.scale_in_cooldown_seconds)
        out_cooldown = Duration.seconds(spec.scale_out_cooldown_seconds)
        for variant_spec in variants:
            variant = variant_spec.name
            # Policy names carry the variant's instance types: after an instance-type change (the guard
            # deregistered the target, which deletes its policies) CloudFormation replaces them.
            fingerprint = instance_types_fingerprint(variant_spec)

            def named(policy: str, variant: str = variant, fingerprint: str = fingerprint) -> str:
                return f"{self.endpoint_name}-{variant}-{policy}-{fingerprint}"

            target = appscaling.ScalableTarget(
                self, f"ScalableTarget{variant}",
                service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
                resource_id=self._variant_resource_id(variant),
                scalable_dimension=traits.scalable_dimension,  # instances, or serverless provisioned concurrency
                min_capacity=spec.min_capacity,
                max_capacity=spec.max_capacity,
                role=role,
            )
            target.node.add_dependency(self.endpoint)  # the variant must exist before it is registered
            if self.update_guard is not None and self.update_guard.after is not None:
                target.node.add_dependency(self.update_guard.after)
            tracking = dict(scale_in_cooldown=in_cooldown, scale_out_cooldown=out_cooldown)
            if spec.target_invocations_per_instance:
                target.scale_to_track_metric(
                    "InvocationsPerInstance", policy_name=named("InvocationsPerInstance"), target_value=spec.target_invocations_per_instance,
                    predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE, **tracking,
                )
            if spec.target_concurrent_requests_per_model:
                target.scale_to_track_metric(
                    "ConcurrentRequestsPerModel", policy_name=named("ConcurrentRequestsPerModel"), target_value=spec.target_concurrent_requests_per_model,
                    predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_CONCURRENT_REQUESTS_PER_MODEL_HIGH_RESOLUTION,
                    **tracking,
                )
            if spec.target_provisioned_concurrency_utilization:
                target.scale_to_track_metric(
                    "ProvisionedConcurrencyUtilization", policy_name=named("ProvisionedConcurrencyUtilization"), target_value=spec.target_provisioned_concurrency_utilization,
                    predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_PROVISIONED_CONCURRENCY_UTILIZATION,
                    **tracking,
                )
            for m in spec.metric_targets:
                target.scale_to_track_metric(
                    f"{m.metric_name}Tracking", policy_name=named(f"{m.metric_name}Tracking"), target_value=m.target_value,
                    custom_metric=self.metric(m.metric_name, namespace=INSTANCE_NAMESPACE, variant_name=variant, statistic=m.statistic),
                    **tracking,
                )
            if spec.target_backlog_per_instance:
                target.scale_to_track_metric(
                    "BacklogPerInstance", policy_name=named("BacklogPerInstance"), target_value=spec.target_backlog_per_instance,
                    custom_metric=self.metric_approximate_backlog_size_per_instance(), **tracking,
                )
            if spec.min_capacity == 0 and EndpointMetric.HAS_BACKLOG_WITHOUT_CAPACITY in traits.endpoint_metrics:
                self.scaling_alarms.append(
                    scale_out_from_zero(
                        self, target=target, metric=self.metric_has_backlog_without_capacity(),
                        alarm_name=f"{self.endpoint_name}-scale-out-from-zero",
                        description=(
                            f"Requests wait on {self.endpoint_name} while it runs no instance: add one "
                            "(target tracking cannot scale out from zero)."
                        ),
                        cooldown=out_cooldown, evaluation_periods=2, policy_name=named("ScaleOutFromZero"),
                        aggregation=appscaling.MetricAggregationType.AVERAGE,
                    )
                )
            add_schedules(target, spec.schedules)
            targets[variant] = target
        return targets
