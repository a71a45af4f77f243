"""``ApprovedModelDeployer``: an approved model package version is rolled out to its endpoints."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from .. import limits
from ..compliance import acknowledge, nag_resource_id
from ..deploy_targets import ENVIRONMENT_VARIABLE, IMAGE, MODEL_DATA_URL, TargetEntry
from ..errors import Problems, is_token
from ..inference.base import EndpointBase, endpoint_arn_for
from ..inference.specs import PromotedModel
from ._wiring import (
    METRICS_NAMESPACE,
    acknowledge_wildcards,
    add_function_target,
    allow_notifications,
    dead_letter_queue,
    json_environment,
    sagemaker_arn,
    state_table,
)
from .events import on_model_package_approved
from .reliable_function import ReliableFunction, environment_size

SAGEMAKER_PRINCIPAL = "sagemaker.amazonaws.com"
ENDPOINT_LOG_GROUP_PREFIX = "/aws/sagemaker/Endpoints"
IDEMPOTENCY_EXPIRY_S = (300, 7 * 24 * 3600)
# The handler names what it creates "<endpoint>-v<version>[-cfg]-<hash>", at most 63 characters, cutting
# the endpoint part when needed (lambda/model_deployer: resource_name). Up to this many characters of
# the endpoint name always survive (versions up to 8 digits), so IAM can name the resources by prefix.
_KEPT_NAME_CHARS = 40
# The promotion state machine: how often it looks at a busy endpoint, how long one execution may run
# (longer than a deployment's MaximumExecutionTimeoutInSeconds of 8 hours plus waiting for the
# endpoint), and how a throttled or transient step is retried (the handler raises TransientError).
PROMOTION_POLL = Duration.minutes(1)
PROMOTION_TIMEOUT = Duration.hours(24)
STEP_RETRY_ERRORS = (
    "TransientError", "Lambda.TooManyRequestsException", "Lambda.ServiceException",
    "Lambda.AWSLambdaException", "Lambda.SdkClientException",
)
STEP_RETRY = {"interval": Duration.seconds(5), "max_attempts": 6, "backoff_rate": 2.0}
# Task states of the promotion and the Next values the handler returns.
PROMOTION_STEPS = ("acquire", "next", "status", "deploy", "outcome", "release")


def deployed_name_pattern(endpoint_name: str) -> str:
    """IAM name pattern of the models and endpoint configs the deployer creates for ``endpoint_name``."""
    stem = re.sub(r"[^a-zA-Z0-9]+", "-", endpoint_name).strip("-")
    if len(stem) <= _KEPT_NAME_CHARS:
        return f"{stem}-*"
    return f"{stem[:_KEPT_NAME_CHARS].rstrip('-')}*"


@dataclass(frozen=True)
class S3Prefix:
    """Objects under ``prefix`` (a key prefix such as ``models/``; ``""`` = the whole bucket)."""

    bucket: s3.IBucket
    prefix: str = ""

    def objects_arn(self) -> str:
        return self.bucket.arn_for_objects(f"{self.prefix}*")


@dataclass(frozen=True)
class DeployTarget:
    """Deploy approved versions of ``model_package_group`` to the endpoint ``endpoint_name``.

    :param deployment_config: ``UpdateEndpoint`` ``DeploymentConfig`` (API shape); default none: the
        endpoint's ``LastDeploymentConfig``. :meth:`for_endpoint` reads it from an ``InferenceEndpoint``.
    :param variant_names: variants that get the new model; default every variant that has a model.
    :param data_capture: where the endpoint captures requests, if it does: the deployed model's
        execution role may write there.
    :param promoted: per variant name, the SSM parameters its model is read from at deploy time
        (``ModelSpec.promoted``): the promotion writes the version's image and model data there before
        ``UpdateEndpoint`` and puts back what the endpoint serves after a rollback, so a later
        ``cdk deploy`` deploys the same version. Default none (CloudFormation keeps its own model).
        :meth:`for_endpoint` takes them from the ``InferenceEndpoint``.
    """

    model_package_group: str
    endpoint_name: str
    deployment_config: Mapping[str, Any] | None = None
    variant_names: tuple[str, ...] = ()
    data_capture: S3Prefix | None = None
    promoted: Mapping[str, PromotedModel] = field(default_factory=dict)

    @classmethod
    def for_endpoint(
        cls,
        endpoint: EndpointBase,
        *,
        model_package_group: str,
        variant_names: Sequence[str] = (),
        data_capture: S3Prefix | None = None,
    ) -> DeployTarget:
        """The target for an ``InferenceEndpoint``: its name, and the deployment configuration that
        CloudFormation gives it (blue/green or rolling, rollback alarms by name), so an automatic
        deployment rolls out and rolls back exactly like a CloudFormation update; and the promotion
        parameters of the variants it replaces (``promoted_models``), so CloudFormation follows it."""
        promoted = endpoint.promoted_models
        return cls(
            model_package_group=model_package_group,
            endpoint_name=endpoint.endpoint_name,
            deployment_config=deployment_config_of(endpoint),
            variant_names=tuple(variant_names),
            data_capture=data_capture,
            promoted={name: spec for name, spec in promoted.items() if not variant_names or name in variant_names},
        )

    def parameter_names(self) -> list[str]:
        """Every SSM parameter the promotion writes for this target."""
        return sorted(
            {n for spec in self.promoted.values() for n in (spec.image_parameter, spec.model_data_parameter) if n}
        )

    def as_environment(self) -> dict[str, Any]:
        """This target's entry of the handler's ``DEPLOY_TARGETS``, in the schema both share
        (:class:`constructs_lib.deploy_targets.TargetEntry`)."""
        return TargetEntry(
            endpoint_name=self.endpoint_name,
            deployment_config=dict(self.deployment_config) if self.deployment_config else None,
            variant_names=tuple(self.variant_names),
            parameters={
                variant: {IMAGE: spec.image_parameter}
                | ({MODEL_DATA_URL: spec.model_data_parameter} if spec.model_data_parameter else {})
                for variant, spec in sorted(self.promoted.items())
            },
        ).to_environment()


def deployment_config_of(endpoint: EndpointBase) -> dict[str, Any] | None:
    """The ``DeploymentConfig`` CloudFormation gives an endpoint, as the ``UpdateEndpoint`` API takes it
    (``PascalCase``, rollback alarms by name): the endpoint's own typed fact
    (``EndpointBase.deployment_config``), never read back from its generated resources; ``None`` when it
    has none (or is imported)."""
    config = endpoint.deployment_config
    return copy.deepcopy(dict(config)) if config is not None else None


def promotion_definition(scope: Construct, step_function: lambda_.IFunction) -> sfn.IChainable:
    """The promotion workflow's states in ``scope``; every Task invokes ``step_function``.

    acquire -> next -> (WaitInService -> status -> deploy -> Watch -> outcome -> next)* -> release -> Done.
    Every Task calls the step function with ``{"Step", "State", "Execution"}`` and gets the next state
    back; ``Route`` goes where its ``Next`` says (``lambda/model_deployer``: ``step``). Throttled and
    transient steps are retried with back-off (``STEP_RETRY``).
    """

    def task(step: str) -> tasks.LambdaInvoke:
        invoke = tasks.LambdaInvoke(
            scope, f"{step.capitalize()}Step",
            lambda_function=step_function,
            payload=sfn.TaskInput.from_object(
                {"Step": step, "State": sfn.JsonPath.object_at("$"), "Execution": sfn.JsonPath.execution_id}
            ),
            payload_response_only=True,
            retry_on_service_exceptions=False,
        )
        invoke.add_retry(errors=list(STEP_RETRY_ERRORS), **STEP_RETRY)
        return invoke

    acquire, next_version, status, deploy, outcome, release = (task(s) for s in PROMOTION_STEPS)
    route = sfn.Choice(scope, "Route")
    wait_in_service = sfn.Wait(scope, "WaitInService", time=sfn.WaitTime.duration(PROMOTION_POLL))
    watch = sfn.Wait(scope, "Watch", time=sfn.WaitTime.duration(PROMOTION_POLL))
    for state in (acquire, next_version, status, deploy, outcome, release):
        state.next(route)
    wait_in_service.next(status)
    watch.next(outcome)
    for name, state in (
        ("Next", next_version), ("WaitInService", wait_in_service), ("Deploy", deploy),
        ("Watch", watch), ("Release", release), ("Done", sfn.Succeed(scope, "Done")),
    ):
        route.when(sfn.Condition.string_equals("$.Next", name), state)
    route.otherwise(sfn.Fail(scope, "UnknownStep", error="UnknownStep", cause="the step function returned no known Next"))
    return acquire


class ApprovedModelDeployer(Construct):
    """An EventBridge rule on ``SageMaker Model Package State Change`` events that approve a version in
    one of the targets' groups, and the ``model_deployer`` function: it creates a model and an endpoint
    config (a copy of the endpoint's current one with the new model) and starts ``UpdateEndpoint`` with
    the target's deployment configuration, then notifies ``topic``.

    Duplicate deliveries are absorbed by Powertools idempotency keyed on the event ``id`` in
    ``idempotency_table`` (on-demand, KMS-encrypted with ``key``, point-in-time recovery, TTL attribute
    ``expiration``, partition key ``id``, retained), and by the handler's deterministic names.

    Permissions are limited to the targets: ``DescribeModelPackage`` on the groups' versions,
    ``DescribeEndpoint``/``UpdateEndpoint`` on the target endpoints, ``CreateModel``/``DescribeModel``/
    ``CreateEndpointConfig`` on the names the function generates for them (:func:`deployed_name_pattern`),
    ``iam:PassRole`` of ``model_execution_role`` to SageMaker only. ``DescribeEndpointConfig`` is allowed
    on every endpoint config: an endpoint's current config has a CloudFormation-generated name that
    changes with every model update.

    Exposes ``rule``, ``handler`` (:class:`ReliableFunction`), ``dead_letter_queue``,
    ``idempotency_table`` and ``model_execution_role``.

    :param model_execution_role: the role deployed models run with; default: a role created here that
        may pull ``image_repositories``, read ``model_data`` (decrypting with its buckets' keys), write
        the targets' logs and, for targets with ``data_capture``, their captures.
    :param idempotency_expiry: how long a processed event id is remembered; default 24 hours.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        targets: Sequence[DeployTarget],
        topic: sns.ITopic,
        key: kms.IKey,
        model_execution_role: iam.IRole | None = None,
        image_repositories: Sequence[ecr.IRepository] = (),
        model_data: Sequence[S3Prefix] = (),
        idempotency_expiry: Duration = Duration.hours(24),
        platform_name: str = "aiplatform",
        metrics_namespace: str = METRICS_NAMESPACE,
    ) -> None:
        super().__init__(scope, id)
        deploy_targets: dict[str, list[dict[str, Any]]] = {}
        for target in targets:
            deploy_targets.setdefault(target.model_package_group, []).append(target.as_environment())
        self._validate(
            targets, deploy_targets, model_execution_role, image_repositories, model_data, idempotency_expiry
        )

        self.idempotency_table = state_table(
            self, "IdempotencyTable", key=key, partition_key="id", expiry_attribute="expiration",
            removal_policy=RemovalPolicy.RETAIN,
            why_no_backup_plan="The table holds only idempotency records that expire after idempotency_expiry; "
            "point-in-time recovery covers it, and a backup plan would keep nothing worth restoring.",
        )
        self.model_execution_role = model_execution_role or self._execution_role(
            targets, key, image_repositories, model_data
        )

        self.promotion_table = state_table(
            self, "PromotionTable", key=key, partition_key="EndpointName", removal_policy=RemovalPolicy.RETAIN,
            why_no_backup_plan="The table holds one small item per target endpoint (newest approved, deployed "
            "and rolled-back versions); point-in-time recovery covers it.",
        )
        common_environment = {
            "TOPIC_ARN": topic.topic_arn,
            "PLATFORM_NAME": platform_name,
            ENVIRONMENT_VARIABLE: json_environment(self, deploy_targets),
            "MODEL_EXECUTION_ROLE_ARN": self.model_execution_role.role_arn,
            "PROMOTION_TABLE": self.promotion_table.table_name,
        }
        # The steps of the promotion state machine (invoked synchronously by Step Functions).
        self.step_handler = ReliableFunction(
            self, "StepHandler",
            code_name="model_deployer",
            description="Steps of the promotion of approved SageMaker model versions to their endpoints",
            key=key,
            environment=common_environment,
            reserved_concurrency=5,
            timeout=Duration.minutes(2),
            metrics_namespace=metrics_namespace,
        )
        allow_notifications(self.step_handler, topic, key)
        self._allow_deployments(self.step_handler, targets, key)
        self._allow_promotion_parameters(self.step_handler, targets)
        self._allow_promotion_table(self.step_handler, key)
        self.state_machine = self._promotion_state_machine(key)

        # The EventBridge target: records the newest approved version per endpoint, starts a promotion.
        self.handler = ReliableFunction(
            self, "Handler",
            code_name="model_deployer",
            description="Queues approved SageMaker model package versions for promotion to their endpoints",
            key=key,
            environment={
                **common_environment,
                "STATE_MACHINE_ARN": self.state_machine.state_machine_arn,
                "IDEMPOTENCY_TABLE": self.idempotency_table.table_name,
                "IDEMPOTENCY_EXPIRY_SECONDS": str(int(idempotency_expiry.to_seconds())),
            },
            reserved_concurrency=2,
            timeout=Duration.minutes(2),
            metrics_namespace=metrics_namespace,
        )
        allow_notifications(self.handler, topic, key)
        self._allow_queueing(targets, key)
        self.state_machine.grant_start_execution(self.handler.role)

        self.dead_letter_queue = dead_letter_queue(self, key)
        self.rule = on_model_package_approved(
            self, "Rule", model_package_groups=list(deploy_targets),
            description="SageMaker model package versions approved in "
            + ", ".join(sorted(deploy_targets)) + ": deploy them",
        )
        add_function_target(self.rule, self.handler, self.dead_letter_queue)

    # -- the promotion workflow -------------------------------------------------------------------
    def _promotion_state_machine(self, key: kms.IKey) -> sfn.StateMachine:
        """acquire -> next -> (wait until InService -> deploy -> wait for the outcome -> next)* -> release.

        Every Task calls the step handler with ``{"Step", "State", "Execution"}`` and gets the next state
        back; ``Route`` goes where its ``Next`` says. One execution per endpoint holds the endpoint's lock
        in the promotion table; an execution started meanwhile finds it held and stops, and the holder
        takes the newest wanted version before it releases the lock.
        """
        definition = promotion_definition(self, self.step_handler.function)
        log_group = logs.LogGroup(
            self, "PromotionLogs", encryption_key=key, retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=RemovalPolicy.RETAIN,
        )
        machine = sfn.StateMachine(
            self, "Promotion",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=PROMOTION_TIMEOUT,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            comment="Promotes approved model package versions to one endpoint at a time",
        )
        acknowledge(
            machine.role,
            "CDK's grants for this state machine: invoking the step function (its ARN and versions), "
            "X-Ray segments and CloudWatch Logs vended delivery, which support no resource-level permissions.",
            "AwsSolutions-IAM5[Resource::*]",
            f"AwsSolutions-IAM5[Resource::{nag_resource_id(self, self.step_handler.function.function_arn)}:*]",
            "HIPAA.Security-IAMNoInlinePolicy", "NIST.800.53.R5-IAMNoInlinePolicy", "PCI.DSS.321-IAMNoInlinePolicy",
        )
        return machine

    # -- validation ---------------------------------------------------------------------------------
    def _validate(self, targets, deploy_targets, role, repositories, model_data, expiry: Duration) -> None:
        p = Problems(f"ApprovedModelDeployer {self.node.path}")
        p.check(bool(targets), "targets", [], "at least one DeployTarget")
        seen: set[tuple[str, str]] = set()
        for i, t in enumerate(targets):
            w = f"targets[{i}]"
            for key, value in (("model_package_group", t.model_package_group), ("endpoint_name", t.endpoint_name)):
                if is_token(value):  # IAM statements and the rule name these at synth
                    p.add(f"{w}.{key}", value, "a name known at synth, not a token")
                else:
                    p.check(bool(limits.NAME_PATTERN.match(value)), f"{w}.{key}", value, limits.NAME_RULE)
            for variant, spec in t.promoted.items():
                for attr, name in (("image_parameter", spec.image_parameter), ("model_data_parameter", spec.model_data_parameter)):
                    if name is not None:  # IAM statements name these at synth
                        p.check(
                            not is_token(name) and limits.is_ssm_parameter_name(name),
                            f"{w}.promoted[{variant!r}].{attr}", name, limits.SSM_PARAMETER_NAME_RULE + ", known at synth",
                        )
            pair = (t.model_package_group, t.endpoint_name)
            p.check(pair not in seen, w, list(pair), "each (model_package_group, endpoint_name) pair once")
            seen.add(pair)
        if role is None:
            p.check(bool(repositories), "image_repositories", [],
                    "the ECR repositories of the approved images (or a model_execution_role)")
            p.check(bool(model_data), "model_data", [],
                    "the S3 prefixes of the approved model data (or a model_execution_role)")
        low, high = IDEMPOTENCY_EXPIRY_S
        p.check(low <= expiry.to_seconds() <= high, "idempotency_expiry", expiry.to_seconds(), f"{low}-{high} seconds")
        # Half of the function's environment (Lambda's quota), the other variables need the rest.
        budget = limits.LAMBDA_ENVIRONMENT_MAX_BYTES // 2
        size = environment_size({ENVIRONMENT_VARIABLE: json_environment(self, deploy_targets)}, self)
        p.check(
            size <= budget, "targets", f"{size} bytes of {ENVIRONMENT_VARIABLE}",
            f"at most {budget} bytes: Lambda allows {limits.LAMBDA_ENVIRONMENT_MAX_BYTES} bytes of environment "
            "variables in all",
        )
        p.raise_if_any()

    # -- the deployed models' role ----------------------------------------------------------------
    def _execution_role(self, targets, key: kms.IKey, repositories, model_data) -> iam.Role:
        stack = Stack.of(self)
        role = iam.Role(
            self, "ModelExecutionRole",
            assumed_by=iam.ServicePrincipal(SAGEMAKER_PRINCIPAL),
            description="Execution role of models deployed from approved model package versions",
        )
        log_groups = [
            stack.format_arn(
                service="logs", resource="log-group", arn_format=ArnFormat.COLON_RESOURCE_NAME,
                resource_name=f"{ENDPOINT_LOG_GROUP_PREFIX}/{name}",
            )
            for name in sorted({t.endpoint_name for t in targets})
        ]
        log_streams = [f"{group}:log-stream:*" for group in log_groups]
        objects = sorted({location.objects_arn() for location in model_data}, key=str)
        data_keys = sorted(
            {location.bucket.encryption_key.key_arn for location in model_data if location.bucket.encryption_key},
            key=str,
        )
        captures = sorted({t.data_capture.objects_arn() for t in targets if t.data_capture}, key=str)
        statements = [
            iam.PolicyStatement(
                sid="PullModelImages",
                actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                resources=sorted({r.repository_arn for r in repositories}, key=str),
            ),
            iam.PolicyStatement(
                sid="AuthenticateToEcrAndPublishMetrics",
                actions=["ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"],
                resources=["*"],
            ),
            iam.PolicyStatement(sid="ReadModelData", actions=["s3:GetObject"], resources=objects),
            iam.PolicyStatement(
                sid="WriteEndpointLogs",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[*log_groups, *log_streams],
            ),
        ]
        if data_keys:
            statements.append(
                iam.PolicyStatement(
                    sid="DecryptModelData", actions=["kms:Decrypt"], resources=data_keys,
                    conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
                )
            )
        if captures:
            statements += [
                iam.PolicyStatement(sid="WriteDataCapture", actions=["s3:PutObject"], resources=captures),
                iam.PolicyStatement(
                    sid="EncryptDataCapture", actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[key.key_arn]
                ),
            ]
        policy = iam.ManagedPolicy(
            self, "ModelExecutionPolicy", roles=[role], statements=statements,
            description="Least-privilege permissions of models deployed from approved model package versions",
        )
        acknowledge(
            policy,
            "ecr:GetAuthorizationToken and cloudwatch:PutMetricData support no resource-level permissions; "
            "image pulls themselves are scoped to the given repositories.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        acknowledge(
            policy,
            "SageMaker reads a model version's artifacts under the configured model data prefixes, writes "
            "one log stream per instance in the target endpoints' own log groups, and one capture object "
            "per request batch under each target's own capture prefix.",
            *(
                f"AwsSolutions-IAM5[Resource::{nag_resource_id(self, arn)}]"
                for arn in (*objects, *log_streams, *captures)
            ),
        )
        return role

    # -- the function's permissions ---------------------------------------------------------------
    def _allow_promotion_table(self, handler: ReliableFunction, key: kms.IKey) -> None:
        handler.add_to_role_policy(
            iam.PolicyStatement(
                sid="UsePromotionTable", actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
                resources=[self.promotion_table.table_arn],
            )
        )
        handler.add_to_role_policy(
            iam.PolicyStatement(
                sid="EncryptPromotionRecords",
                actions=["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{Stack.of(self).region}.amazonaws.com"}},
            )
        )

    def _allow_queueing(self, targets: Sequence[DeployTarget], key: kms.IKey) -> None:
        """The EventBridge target reads the approved version, records it and starts the promotion."""
        handler = self.handler
        groups = sorted({t.model_package_group for t in targets})
        packages = [sagemaker_arn(self, "model-package", f"{group}/*") for group in groups]
        handler.add_to_role_policy(
            iam.PolicyStatement(sid="DescribeApprovedVersions", actions=["sagemaker:DescribeModelPackage"], resources=packages)
        )
        handler.add_to_role_policy(
            iam.PolicyStatement(
                sid="UseIdempotencyTable",
                actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                resources=[self.idempotency_table.table_arn],
            )
        )
        handler.add_to_role_policy(
            iam.PolicyStatement(
                sid="EncryptIdempotencyRecords",
                actions=["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{Stack.of(self).region}.amazonaws.com"}},
            )
        )
        handler.add_to_role_policy(
            iam.PolicyStatement(
                sid="UsePromotionTable", actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
                resources=[self.promotion_table.table_arn],
            )
        )
        acknowledge_wildcards(
            handler,
            "The function describes the approved versions of its own model package groups (numbered by "
            "SageMaker).",
            *packages,
        )

    def _allow_promotion_parameters(self, handler: ReliableFunction, targets: Sequence[DeployTarget]) -> None:
        """Record the promoted version where CloudFormation reads it, and read what an endpoint serves
        (to put it back after a rollback)."""
        names = sorted({n for t in targets for n in t.parameter_names()})
        if not names:
            return
        stack = Stack.of(self)
        handler.add_to_role_policy(
            iam.PolicyStatement(
                sid="RecordPromotedVersions", actions=["ssm:PutParameter"],
                resources=[
                    stack.format_arn(service="ssm", resource="parameter", resource_name=name.removeprefix("/"))
                    for name in names
                ],
            )
        )
        every_model = sagemaker_arn(self, "model", "*")
        handler.add_to_role_policy(
            iam.PolicyStatement(sid="ReadServingModels", actions=["sagemaker:DescribeModel"], resources=[every_model])
        )
        acknowledge_wildcards(
            handler,
            "After a rollback the function reads the model the endpoint serves again, whose name CloudFormation "
            "or an earlier promotion generated, to put its image and model data back into the promotion "
            "parameters; describing a model reads settings only.",
            every_model,
        )

    def _allow_deployments(self, handler: ReliableFunction, targets: Sequence[DeployTarget], key: kms.IKey) -> None:
        endpoints = sorted({t.endpoint_name for t in targets})
        endpoint_arns = [endpoint_arn_for(self, name) for name in endpoints]
        groups = sorted({t.model_package_group for t in targets})
        packages = [sagemaker_arn(self, "model-package", f"{group}/*") for group in groups]
        models = [sagemaker_arn(self, "model", deployed_name_pattern(name)) for name in endpoints]
        configs = [sagemaker_arn(self, "endpoint-config", deployed_name_pattern(name)) for name in endpoints]
        every_config = sagemaker_arn(self, "endpoint-config", "*")
        statement = iam.PolicyStatement
        for allowed in (
            statement(sid="DescribeApprovedVersions", actions=["sagemaker:DescribeModelPackage"], resources=packages),
            statement(sid="DescribeTargetEndpoints", actions=["sagemaker:DescribeEndpoint"], resources=endpoint_arns),
            statement(
                sid="CreateDeployedModels", actions=["sagemaker:CreateModel", "sagemaker:DescribeModel"], resources=models
            ),
            statement(sid="CreateDeployedEndpointConfigs", actions=["sagemaker:CreateEndpointConfig"], resources=configs),
            statement(
                sid="UpdateTargetEndpoints", actions=["sagemaker:UpdateEndpoint"], resources=[*endpoint_arns, *configs]
            ),
            statement(
                sid="ReadCurrentEndpointConfigs", actions=["sagemaker:DescribeEndpointConfig"], resources=[every_config]
            ),
            statement(
                sid="PassModelExecutionRole", actions=["iam:PassRole"], resources=[self.model_execution_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": SAGEMAKER_PRINCIPAL}},
            ),
            # An endpoint config copied with its KmsKeyId makes SageMaker encrypt the new instances'
            # volumes with that key on the caller's behalf, through a grant.
            iam.PolicyStatement(sid="DescribeEndpointKey", actions=["kms:DescribeKey"], resources=[key.key_arn]),
            statement(
                sid="GrantEndpointStorageEncryption", actions=["kms:CreateGrant"], resources=[key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
        ):
            handler.add_to_role_policy(allowed)
        acknowledge_wildcards(
            handler,
            "The function describes the approved versions of its own model package groups (numbered by "
            "SageMaker) and creates models and endpoint configs only under the names it generates for its "
            "target endpoints (<endpoint>-v<version>-<hash>).",
            *packages, *models, *configs,
        )
        acknowledge_wildcards(
            handler,
            "An endpoint's current config, which the function copies, has a CloudFormation-generated name "
            "that changes with every model update; describing a config reads settings only, every write "
            "is scoped to the function's own names.",
            every_config,
        )
