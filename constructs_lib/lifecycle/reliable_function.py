"""``ReliableFunction``: a Python Lambda for asynchronous (EventBridge) invocation, with every safety net."""

from __future__ import annotations

import re
from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from ..compliance import acknowledge
from ..errors import Problems
from ..functions_code import FUNCTION_RUNTIME, function_code, powertools_layer
from ..limits import LAMBDA_ENVIRONMENT_MAX_BYTES

TIMEOUT_S = (1, 900)
RETRY_ATTEMPTS = (0, 2)
MAX_EVENT_AGE_S = (60, 21600)


# An unresolved token is counted as this many characters: an ARN of the platform's (topic, key, queue)
# resolved at deploy.
TOKEN_ALLOWANCE = 100


def environment_size(environment: Mapping[str, str], scope: IConstruct | None = None) -> int:
    """Bytes Lambda counts against its environment quota (``limits.LAMBDA_ENVIRONMENT_MAX_BYTES``), tokens
    counted as ``TOKEN_ALLOWANCE``: the one measure of every check of a function's environment (this
    construct's, the training-job alarms' packing, the model deployer's targets).

    With ``scope``, a token is resolved first and only its intrinsics are estimated: a value that is one
    token around a long literal (``Stack.to_json_string`` of settings holding an ARN) counts its literal
    text, not ``TOKEN_ALLOWANCE``."""
    stack = Stack.of(scope) if scope is not None else None
    return sum(len(name.encode()) + _value_size(value, stack) for name, value in environment.items())


def _value_size(value: str, stack: Stack | None) -> int:
    if stack is not None and _TOKEN.search(value):
        return _rendered_size(stack.resolve(value))
    return len(_TOKEN.sub("", value).encode()) + TOKEN_ALLOWANCE * len(_TOKEN.findall(value))


def _rendered_size(resolved: object) -> int:
    """A resolved value's size once CloudFormation renders it: literal parts as they are, each other
    intrinsic (``Ref``, ``Fn::GetAtt``, ``Fn::GetStackOutput``, ...) as ``TOKEN_ALLOWANCE``."""
    if isinstance(resolved, str):
        return len(resolved.encode())
    if isinstance(resolved, dict) and set(resolved) == {"Fn::Join"}:
        separator, parts = resolved["Fn::Join"]
        return sum(_rendered_size(p) for p in parts) + len(separator.encode()) * max(len(parts) - 1, 0)
    return TOKEN_ALLOWANCE


# How aws-cdk-lib renders an unresolved string token (``${Token[TOKEN.123]}``).
_TOKEN = re.compile(r"\$\{Token\[[^\]]+\]\}")


class ReliableFunction(Construct):
    """The code in ``lambda/<code_name>/handler.py`` as a function that does not lose events.

    Asynchronous invocations (EventBridge targets) that fail after ``retry_attempts`` retries or
    exceed ``max_event_age`` go to ``failure_queue`` (an on-failure destination, KMS-encrypted).
    The function has reserved concurrency, explicit timeout and memory, X-Ray tracing, JSON logs in
    a KMS-encrypted log group retained ``log_retention``, and Powertools from the stack's one
    shared layer (``functions_code.powertools_layer``).

    :param key: encrypts the failure queue, the log group and environment variables; ``None`` (only for
        library users without a key of their own): SQS-managed queue encryption, the log group's and
        Lambda's default encryption.
    Failed asynchronous invocations reach ``failure_queue`` both as on-failure destination (with the
    error and the original event) and as the function's dead-letter queue.
    :param reserved_concurrency: default 5: a burst of events cannot starve the account's pool.
    :param data_files: file name -> text written next to the handler in its code asset (settings too
        large for the environment, which Lambda limits to 4 KB in all: refused at synth above it).
    :param timeout: default 30 s; ``memory_size`` default 256 MB; ``retry_attempts`` default 2;
        ``max_event_age`` default 6 hours; ``log_retention`` default one year.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        code_name: str,
        description: str,
        key: kms.IKey | None,
        environment: Mapping[str, str] | None = None,
        reserved_concurrency: int = 5,
        timeout: Duration = Duration.seconds(30),
        memory_size: int = 256,
        retry_attempts: int = 2,
        max_event_age: Duration = Duration.hours(6),
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        metrics_namespace: str = "AIPlatform",
        data_files: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id)
        p = Problems(f"ReliableFunction {self.node.path}")
        p.check(TIMEOUT_S[0] <= timeout.to_seconds() <= TIMEOUT_S[1], "timeout", timeout.to_seconds(), "1-900 seconds")
        p.check(RETRY_ATTEMPTS[0] <= retry_attempts <= RETRY_ATTEMPTS[1], "retry_attempts", retry_attempts, "0-2")
        p.check(
            MAX_EVENT_AGE_S[0] <= max_event_age.to_seconds() <= MAX_EVENT_AGE_S[1], "max_event_age",
            max_event_age.to_seconds(), "60-21600 seconds",
        )
        p.check(reserved_concurrency >= 1, "reserved_concurrency", reserved_concurrency, ">= 1")
        env = {
            "POWERTOOLS_SERVICE_NAME": code_name,
            "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            **(environment or {}),
        }
        size = environment_size(env, self)
        p.check(
            size <= LAMBDA_ENVIRONMENT_MAX_BYTES, "environment", f"{size} bytes ({', '.join(sorted(env))})",
            f"at most {LAMBDA_ENVIRONMENT_MAX_BYTES} bytes of variable names and values in all (Lambda's quota; each "
            f"unresolved token counted as {TOKEN_ALLOWANCE} characters): pass large settings as data_files instead",
        )
        p.raise_if_any()

        self.failure_queue = sqs.Queue(
            self, "FailureQueue",
            encryption=sqs.QueueEncryption.KMS if key is not None else sqs.QueueEncryption.SQS_MANAGED,
            encryption_master_key=key, enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.failure_queue,
            "This queue is itself the dead-letter destination of failed invocations; a DLQ of a DLQ adds nothing.",
            "AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy",
        )
        self.log_group = logs.LogGroup(
            self, "Logs", encryption_key=key, retention=log_retention, removal_policy=RemovalPolicy.RETAIN
        )
        # Our own role: no AWS-managed basic-execution policy, log writes scoped to this log group.
        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=description
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self, "Resource",
            role=self.role,
            dead_letter_queue=self.failure_queue,
            runtime=FUNCTION_RUNTIME,
            handler="handler.handler",
            code=function_code(code_name, data_files),
            layers=[powertools_layer(self)],
            description=description,
            environment=env,
            environment_encryption=key,
            timeout=timeout,
            memory_size=memory_size,
            reserved_concurrent_executions=reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON,
            log_group=self.log_group,
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
            on_failure=destinations.SqsDestination(self.failure_queue),
        )
        reason = (
            "Lambda needs no VPC here: it calls only AWS APIs (SNS, SageMaker) over their public "
            "endpoints with IAM auth; placing it in a VPC would add NAT/endpoint cost and no isolation."
        )
        acknowledge(
            self.function, reason,
            "HIPAA.Security-LambdaInsideVPC", "NIST.800.53.R5-LambdaInsideVPC", "PCI.DSS.321-LambdaInsideVPC",
        )
        acknowledge(
            self.role,
            "The role's statements are CDK grants scoped to this function's own log group, failure queue, "
            "key and the resources its construct grants; an inline policy is deleted with the role.",
            "HIPAA.Security-IAMNoInlinePolicy", "NIST.800.53.R5-IAMNoInlinePolicy", "PCI.DSS.321-IAMNoInlinePolicy",
        )
        acknowledge(
            self.role,
            "CDK's send grant for the KMS-encrypted failure queue (destination and DLQ) allows "
            "kms:GenerateDataKey*/ReEncrypt* on that one key ARN, which SQS needs to encrypt messages.",
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]", "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        )
        acknowledge(
            self.role,
            "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.",
            "AwsSolutions-IAM5[Resource::*]",
        )

    def add_to_role_policy(self, statement: iam.PolicyStatement) -> None:
        self.function.add_to_role_policy(statement)
