"""``PrometheusWorkspace``: an Amazon Managed Service for Prometheus workspace, created or imported,
and the remote-write grant cluster nodes need.

``AWS::APS::Workspace`` (CloudFormation schema bundled with cfn-lint): ``KmsKeyArn`` is create-only
(a customer-managed key for the workspace's data; changing it replaces the workspace), ``Alias`` is
free text up to 100 characters; ``Arn`` and ``PrometheusEndpoint`` are read-only attributes. The
remote-write URL is ``<PrometheusEndpoint>api/v1/remote_write`` (the endpoint ends with ``/``;
Amazon Managed Service for Prometheus user guide, "Ingest Prometheus metrics to the workspace").
Writers need ``aps:RemoteWrite`` on the workspace only: AMP decrypts with the grants it creates on
the key when the workspace is created (user guide, "Encryption at rest"), so the nodes get no KMS
permission.
"""

from __future__ import annotations

from aws_cdk import Arn, ArnFormat, Fn, RemovalPolicy, Stack
from aws_cdk import aws_aps as aps
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..errors import Problems, is_token

REMOTE_WRITE_PATH = "api/v1/remote_write"
REMOTE_WRITE_ACTIONS = ("aps:RemoteWrite",)
MAX_ALIAS = 100
# arn:<partition>:aps:<region>:<account>:workspace/ws-<id>
WORKSPACE_ARN_RULE = "an Amazon Managed Service for Prometheus workspace ARN, arn:<partition>:aps:<region>:<account>:workspace/ws-..."


class PrometheusWorkspace(Construct):
    """A workspace for Prometheus metrics of the platform's clusters, encrypted with a customer-managed key.

    :param alias: the workspace alias (at most 100 characters).
    :param encryption_key: the customer-managed key of the workspace's data (``KmsKeyArn``, create-only).
    :param removal_policy: default ``RETAIN``: the workspace holds the metric history.

    Use :meth:`from_workspace_arn` for an existing workspace.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        alias: str,
        encryption_key: kms.IKey,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        p = Problems(f"PrometheusWorkspace {self.node.path}")
        p.check(is_token(alias) or 1 <= len(alias) <= MAX_ALIAS, "alias", alias, f"1-{MAX_ALIAS} characters")
        p.raise_if_any()
        self.encryption_key = encryption_key
        self.resource = aps.CfnWorkspace(self, "Resource", alias=alias, kms_key_arn=encryption_key.key_arn)
        self.resource.apply_removal_policy(removal_policy)
        self.workspace_arn: str = self.resource.attr_arn
        self.prometheus_endpoint: str = self.resource.attr_prometheus_endpoint

    @property
    def remote_write_url(self) -> str:
        return f"{self.prometheus_endpoint}{REMOTE_WRITE_PATH}"

    def grant_remote_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """``aps:RemoteWrite`` on this workspace only."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=list(REMOTE_WRITE_ACTIONS), resource_arns=[self.workspace_arn]
        )

    @classmethod
    def from_workspace_arn(cls, scope: Construct, id: str, workspace_arn: str) -> ImportedPrometheusWorkspace:
        """An existing workspace (``observability.prometheus.workspace: <arn>``): remote-write URL built
        from the ARN's region and workspace id (``https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/``)."""
        return ImportedPrometheusWorkspace(scope, id, workspace_arn=workspace_arn)


class ImportedPrometheusWorkspace(Construct):
    """An existing workspace, by ARN (same interface as :class:`PrometheusWorkspace`)."""

    def __init__(self, scope: Construct, id: str, *, workspace_arn: str) -> None:
        super().__init__(scope, id)
        p = Problems(f"PrometheusWorkspace {self.node.path}")
        check_workspace_arn(p, "workspace_arn", workspace_arn)
        p.raise_if_any()
        self.workspace_arn = workspace_arn
        parts = Arn.split(workspace_arn, ArnFormat.SLASH_RESOURCE_NAME)
        region = parts.region or Stack.of(self).region
        workspace_id = parts.resource_name or Fn.select(1, Fn.split("/", workspace_arn))
        self.prometheus_endpoint = f"https://aps-workspaces.{region}.{Stack.of(self).url_suffix}/workspaces/{workspace_id}/"

    remote_write_url = PrometheusWorkspace.remote_write_url
    grant_remote_write = PrometheusWorkspace.grant_remote_write


def check_workspace_arn(problems: Problems, where: str, arn: str) -> None:
    import re

    problems.check(
        is_token(arn) or bool(re.match(r"^arn:aws[a-z-]*:aps:[a-z0-9-]+:\d{12}:workspace/ws-[A-Za-z0-9-]+$", str(arn))),
        where, arn, WORKSPACE_ARN_RULE,
    )
