"""The platform's customer-managed KMS key, with the service grants that silent failures hide."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

# Services that write to resources this key encrypts. Without these statements a deploy succeeds
# and then messages are silently dropped (REFERENCE.md, "KMS key policies").
SERVICE_PRINCIPALS_USING_KEY = (
    "cloudwatch.amazonaws.com",  # CloudWatch alarms publishing to an encrypted SNS topic
    "events.amazonaws.com",  # EventBridge delivering to an encrypted SQS DLQ / SNS topic
    "sns.amazonaws.com",  # SNS delivering to encrypted SQS subscriptions
)


def source_arn_patterns(stack: Stack) -> dict[str, str]:
    """``aws:SourceArn`` of each service's resources in this account and region: CloudWatch alarms
    (CloudWatch User Guide, confused-deputy example for SNS topics), EventBridge rules, SNS topics."""
    return {
        "cloudwatch.amazonaws.com": stack.format_arn(
            service="cloudwatch", resource="alarm", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
        ),
        "events.amazonaws.com": stack.format_arn(service="events", resource="rule", resource_name="*"),
        "sns.amazonaws.com": stack.format_arn(service="sns", resource="*"),
    }


def this_account(stack: Stack, *services: str) -> dict:
    """Condition scoping a service principal to this account (``aws:SourceAccount``) and to its
    resources of this account and region (``aws:SourceArn``): no confused deputy."""
    patterns = source_arn_patterns(stack)
    arns = [patterns[s] for s in services]
    return {
        "StringEquals": {"aws:SourceAccount": stack.account},
        "ArnLike": {"aws:SourceArn": arns[0] if len(arns) == 1 else arns},
    }


class PlatformKey(Construct):
    """A rotating KMS key retained on delete, whose policy lets the platform's AWS services use it.

    ``key`` is the ``kms.Key``. CloudWatch alarms, EventBridge and SNS may generate data keys and
    decrypt (for their deliveries to encrypted topics/queues), each only for this account: CloudWatch
    and SNS by ``aws:SourceAccount`` and ``aws:SourceArn``, EventBridge by the encryption context of
    this account's topics and queues; CloudWatch Logs of this account and region may use it for log
    groups, scoped by the encryption context.

    :param removal_policy: default ``RETAIN``: the key survives stack deletion (data encrypted
        with it stays readable). ``DESTROY`` schedules deletion after ``pending_window``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        alias: str,
        description: str = "AI platform data key",
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        pending_window: Duration = Duration.days(30),
    ) -> None:
        super().__init__(scope, id)
        self.key = kms.Key(
            self,
            "Resource",
            alias=alias,
            description=description,
            enable_key_rotation=True,
            removal_policy=removal_policy,
            pending_window=pending_window,
        )
        stack = Stack.of(self)
        # CloudWatch alarms and SNS deliveries: this account's alarms and topics only.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowPlatformServicesToUseKey",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com"), iam.ServicePrincipal("sns.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" means this key
                conditions=this_account(stack, "cloudwatch.amazonaws.com", "sns.amazonaws.com"),
            )
        )
        # EventBridge: its KMS requests for target deliveries are not documented to carry
        # aws:SourceAccount/aws:SourceArn (its documented source keys are for event-bus encryption), so
        # the grant is scoped by the encryption context SNS and SQS always set: this account's topics
        # (aws:sns:topicArn) and queues (aws:sqs:arn), one statement each (condition keys are ANDed).
        for sid, context_key, service in (
            ("AllowEventBridgeForThisAccountsTopics", "kms:EncryptionContext:aws:sns:topicArn", "sns"),
            ("AllowEventBridgeForThisAccountsQueues", "kms:EncryptionContext:aws:sqs:arn", "sqs"),
        ):
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    principals=[iam.ServicePrincipal("events.amazonaws.com")],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],
                    conditions={"ArnLike": {context_key: stack.format_arn(service=service, resource="*")}},
                )
            )
        allow_cloudwatch_logs(self.key, sid="AllowCloudWatchLogsForThisAccount")
        # Grants only for AWS resources: the services that use this key (SageMaker volumes, FSx, Lambda,
        # DynamoDB) create their grants on the caller's behalf (kms:GrantIsForAWSResource true) or as
        # service principals; no person or role may hand the key to another principal by a grant of
        # their own. AWS Control Tower proactive control CT.KMS.PR.3 (its Guard rule expects exactly
        # this shape: Deny, every principal, BoolIfExists on both keys set to "false").
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyGrantsExceptForAwsResources",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["kms:CreateGrant"],
                resources=["*"],
                conditions={"BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
            )
        )


def allow_cloudwatch_logs(key: kms.IKey, *, sid: str) -> None:
    """Let CloudWatch Logs of this account and region use ``key`` for log groups (scoped by the
    encryption context). Only keys defined in this app can be changed; an imported key must already
    allow ``logs.<region>.amazonaws.com``, or creating the log group fails at deploy."""
    if not isinstance(key, kms.Key):
        return
    stack = Stack.of(key)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=sid,
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs", resource="log-group", resource_name="*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )
