"""Multi-account delivery: a CDK Pipelines (CodePipeline V2) pipeline deploying the platform through
dev -> staging -> prod accounts.

The pipeline lives in a tools account and deploys each environment's platform (its own config,
account and region) as a CDK ``Stage``. Steps (aws-cdk-lib ``pipelines``):

* source: a CodeConnections (CodeStar) connection to a Git host, or a CodeCommit repository;
* synth: ``make test`` (the whole suite: nag packs, cfn-lint, config tests), then the nag-checked
  synth of the pipeline app itself (``add_compliance_checks``: a finding fails the build);
* per stage, before deploying: ``cdk diff`` of the stage's assembly against the target account
  (through the CDK bootstrap roles the target trusts the tools account with);
* before prod: a manual approval, after prod's diff.

The pipeline mutates itself (``self_mutation``) when its own definition changes. Bootstrap the
accounts first (README, "Multi-account delivery").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aws_cdk import Environment, Stack, Stage, pipelines
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.compliance import acknowledge

from .config import PlatformConfig

# CDK bootstrap (modern template) qualifier; the diff step assumes the target's lookup role.
BOOTSTRAP_QUALIFIER = "hnb659fds"
SYNTH_OUTPUT = "cdk.out"


@dataclass(frozen=True)
class PipelineSource:
    """Exactly one of ``connection_arn`` (CodeConnections/CodeStar: GitHub, GitLab, Bitbucket) with
    ``repository`` as ``owner/name``, or ``codecommit_repository`` (a repository name)."""

    branch: str
    repository: str | None = None
    connection_arn: str | None = None
    codecommit_repository: str | None = None


@dataclass(frozen=True)
class DeliveryStage:
    """An environment: its validated config (with account and region) and whether a person approves it."""

    config: PlatformConfig
    manual_approval: bool = False

    @property
    def name(self) -> str:
        return self.config.platform.environment.capitalize()


class PlatformStage(Stage):
    """One environment's platform, built by ``build`` (``stacks.platform.build_platform``)."""

    def __init__(self, scope: Construct, id: str, *, config: PlatformConfig, build: Callable, **kwargs) -> None:
        super().__init__(scope, id, env=Environment(account=config.platform.account, region=config.platform.region), **kwargs)
        self.platform = build(self, config)


class DeliveryStack(Stack):
    """The pipeline; ``pipeline`` is the ``pipelines.CodePipeline``, ``stages`` the deployed stages."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        source: PipelineSource,
        stages: Sequence[DeliveryStage],
        build: Callable,
        cli_version: str,
        synth_app: str,
        pipeline_name: str,
        **kwargs,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        if source.connection_arn:
            code = pipelines.CodePipelineSource.connection(source.repository, source.branch, connection_arn=source.connection_arn)
        else:
            repo = codecommit.Repository.from_repository_name(self, "Repository", source.codecommit_repository)
            code = pipelines.CodePipelineSource.code_commit(repo, source.branch)
        self.synth_step = pipelines.ShellStep(
            "Synth", input=code,
            commands=[
                "make test",  # the suite: nag packs, cfn-lint, config and handler tests
                f"npx --no-install cdk synth --quiet --app '{synth_app}' -o {SYNTH_OUTPUT}",  # nag-checked synth
            ],
            primary_output_directory=SYNTH_OUTPUT,
        )
        self.pipeline = pipelines.CodePipeline(
            self, "Pipeline", pipeline_name=pipeline_name, pipeline_type=codepipeline.PipelineType.V2,
            synth=self.synth_step, cross_account_keys=True, enable_key_rotation=True, cli_version=cli_version,
            docker_enabled_for_synth=False, self_mutation=True,
        )
        self.stages: dict[str, PlatformStage] = {}
        self.diff_steps: dict[str, pipelines.CodeBuildStep] = {}
        self.approvals: dict[str, pipelines.ManualApprovalStep] = {}
        for stage in stages:
            c = stage.config.platform
            deployed = PlatformStage(self, stage.name, config=stage.config, build=build)
            diff = pipelines.CodeBuildStep(
                f"Diff{stage.name}", input=self.synth_step,
                install_commands=[f"npm install -g aws-cdk@{cli_version}"],
                commands=[f"cdk diff --app {deployed.artifact_id} --all"],  # artifact id: assembly-<pipeline>-<stage>
                role_policy_statements=[
                    iam.PolicyStatement(
                        actions=["sts:AssumeRole"],
                        resources=[f"arn:{self.partition}:iam::{c.account}:role/cdk-{BOOTSTRAP_QUALIFIER}-lookup-role-{c.account}-{c.region}"],
                    )
                ],
            )
            pre: list[pipelines.Step] = [diff]
            if stage.manual_approval:
                approval = pipelines.ManualApprovalStep(
                    f"Promote{stage.name}", comment=f"Review Diff{stage.name}, then approve deploying {stage.config.prefix}.",
                )
                approval.add_step_dependency(diff)
                pre.append(approval)
                self.approvals[stage.name] = approval
            self.pipeline.add_stage(deployed, pre=pre)
            self.stages[stage.name] = deployed
            self.diff_steps[stage.name] = diff
        self.pipeline.build_pipeline()
        _acknowledge_pipeline_internals(self)


def _acknowledge_pipeline_internals(stack: DeliveryStack) -> None:
    """Acknowledge, finding by finding, what the nag packs report on resources CDK Pipelines
    generates and does not let us configure (its roles' inline policies, CodeBuild projects fed by
    the pipeline, the artifact bucket). Each IAM5 finding is named exactly, computed from the policy
    CDK Pipelines wrote, so a wildcard added later by hand is still reported."""
    from aws_cdk import aws_codebuild as codebuild
    from aws_cdk import aws_s3 as s3

    from constructs_lib.compliance import nag_resource_id

    for node in stack.pipeline.node.find_all():
        if isinstance(node, iam.CfnPolicy):
            findings = {f"{pack}-IAMNoInlinePolicy" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")}
            for statement in stack.resolve(node.policy_document).get("Statement", []):
                for action in _as_list(statement.get("Action")):
                    if "*" in action:
                        findings.add(f"AwsSolutions-IAM5[Action::{action}]")
                for resource in _as_list(statement.get("Resource")):
                    try:
                        rendered = nag_resource_id(node, resource)
                    except ValueError:  # Fn::Sub of a bootstrap role ARN: no wildcard to acknowledge
                        continue
                    if "*" in rendered:
                        findings.add(f"AwsSolutions-IAM5[Resource::{rendered}]")
            acknowledge(
                node, "CDK Pipelines writes this role policy (inline, CDK's scoped wildcards on the artifact "
                "bucket and key, its own CodeBuild log groups and report groups, cdk-* bootstrap roles).",
                *sorted(findings),
            )
        elif isinstance(node, codebuild.CfnProject):
            acknowledge(
                node, "The project's source is the pipeline's artifact (CODEPIPELINE): no repository URL or "
                "credentials in the project.",
                "HIPAA.Security-CodeBuildProjectSourceRepoUrl", "PCI.DSS.321-CodeBuildProjectSourceRepoUrl",
            )
        elif isinstance(node, s3.CfnBucket):
            acknowledge(
                node, "Pipeline artifacts are transient build outputs, re-created from the source on every run "
                "and encrypted with the pipeline's rotating cross-account KMS key; nothing here needs access "
                "logs, versions or replicas.",
                "AwsSolutions-S1", *(f"{pack}-{rule}" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
                                     for rule in ("S3BucketLoggingEnabled", "S3BucketReplicationEnabled", "S3BucketVersioningEnabled")),
            )


def _as_list(value) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]
