"""The optional managed Prometheus path (``observability.prometheus: {workspace: create | <arn>}``).

One small stack (a workspace and a two-group Slurm cluster writing to it, every nag pack, cfn-lint)
shows what the option adds: the workspace with the customer-managed key (``AWS::APS::Workspace``
``KmsKeyArn``, create-only in the CloudFormation schema), retained; the nodes' ``aps:RemoteWrite`` on
that workspace only; the remote-write URL in the node layout; dcgm-exporter's metrics file in the
lifecycle asset. The default platform (option off) shows that nothing of it exists otherwise.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import lint_assembly, new_app, only, resources_of

AZS = ["us-east-1a", "us-east-1b"]


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    from aws_cdk import Stack

    from constructs_lib import PlatformKey, add_compliance_checks
    from constructs_lib.observability import PrometheusWorkspace
    from constructs_lib.training import HyperPodCluster, InstanceGroup, SlurmNodeType, TrainingNetwork

    outdir = tmp_path_factory.mktemp("prometheus-out")
    app = new_app(outdir)
    stack = Stack(app, "Prometheus")
    key = PlatformKey(stack, "Key", alias="alias/prometheus-test").key
    workspace = PrometheusWorkspace(stack, "Workspace", alias="acme-ml-dev-training", encryption_key=key)
    cluster = HyperPodCluster(
        stack, "Cluster", cluster_name="llm-pretrain", encryption_key=key, prometheus=workspace,
        network=TrainingNetwork(stack, "Network", availability_zones=AZS),
        instance_groups=[
            InstanceGroup(name="controller", instance_type="ml.m5.xlarge", instance_count=1,
                          slurm_node_type=SlurmNodeType.CONTROLLER),
            InstanceGroup(name="workers", instance_type="ml.g5.2xlarge", instance_count=2,
                          slurm_node_type=SlurmNodeType.COMPUTE),
        ],
    )
    add_compliance_checks(app)
    template = app.synth().get_stack_by_name("Prometheus").template  # fails on any unacknowledged finding
    return {"template": template, "outdir": outdir, "stack": stack, "cluster": cluster, "workspace": workspace}


class _T:
    def __init__(self, raw):
        self.raw = raw


def test_workspace_is_encrypted_with_the_customer_managed_key_and_retained(synth):
    t = _T(synth["template"])
    workspace_id, workspace = only(t, "AWS::APS::Workspace")
    (key_id,) = [k for k in resources_of(t, "AWS::KMS::Key") if k.startswith("Key")]  # PlatformKey, not the network's
    assert workspace["Properties"] == {"Alias": "acme-ml-dev-training", "KmsKeyArn": {"Fn::GetAtt": [key_id, "Arn"]}}
    assert (workspace["DeletionPolicy"], workspace["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_nodes_may_remote_write_to_that_workspace_only(synth):
    t = _T(synth["template"])
    workspace_id, _ = only(t, "AWS::APS::Workspace")
    policies = {k: v["Properties"] for k, v in resources_of(t, "AWS::IAM::ManagedPolicy").items()
                if k.startswith("ClusterPrometheusRemoteWritePolicy")}
    (policy,) = policies.values()
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert statements["RemoteWrite"] == {"Sid": "RemoteWrite", "Effect": "Allow", "Action": "aps:RemoteWrite",
                                         "Resource": {"Fn::GetAtt": [workspace_id, "Arn"]}}
    pulls = statements["PullExporterImages"]
    assert pulls["Action"] == ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    assert [json.dumps(r) for r in pulls["Resource"]] == [
        json.dumps({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ecr:", {"Ref": "AWS::Region"},
                                      f":602401143452:repository/hyperpod/{name}"]]})
        for name in ("dcgm_exporter", "otel_collector")]
    assert statements["EcrLoginForExporters"]["Action"] == "ecr:GetAuthorizationToken"
    (role_id,) = [k for k, v in resources_of(t, "AWS::IAM::Role").items() if k.startswith("ClusterExecutionRole")]
    assert policy["Roles"] == [{"Ref": role_id}]
    every_aps = [s for p in resources_of(t, "AWS::IAM::ManagedPolicy").values()
                 for s in p["Properties"]["PolicyDocument"]["Statement"] if "aps:" in json.dumps(s["Action"])]
    assert every_aps == [statements["RemoteWrite"]]


def test_remote_write_url_reaches_the_nodes_and_the_exporter_config_is_staged(synth):
    from aws_cdk import Stack

    from constructs_lib.training.collector import dcgm_exporter_csv

    workspace_id = only(_T(synth["template"]), "AWS::APS::Workspace")[0]
    layout = Stack.of(synth["stack"]).resolve(synth["cluster"].node_layout)
    assert layout["prometheus"] == {"remote_write_url": {"Fn::Join": ["", [
        {"Fn::GetAtt": [workspace_id, "PrometheusEndpoint"]}, "api/v1/remote_write"]]}}
    staged = [p for p in synth["outdir"].glob("asset.*/dcgm_exporter_metrics.csv")]
    assert len(staged) == 1 and staged[0].read_text() == dcgm_exporter_csv()
    assert (staged[0].parent / "install_prometheus_forwarder.sh").is_file()


def test_prometheus_assembly_passes_cfn_lint(synth):
    assert lint_assembly(synth["outdir"]) == []


def test_the_default_platform_has_no_prometheus_anything(default_platform):
    """observability.prometheus is off by default: no workspace, no aps: permission, no exporter files."""
    for concern, template in default_platform.templates.items():
        assert not resources_of(template, "AWS::APS::Workspace"), concern
        assert '"aps:' not in json.dumps(template.raw), concern
    assert not list(default_platform.outdir.glob("asset.*/dcgm_exporter_metrics.csv"))
    cluster = default_platform.platform.training.clusters["llm-pretrain"]
    assert cluster.prometheus is None and "prometheus" not in cluster.node_layout


def test_an_existing_workspace_by_arn(tmp_path):
    from aws_cdk import Stack

    from constructs_lib import PlatformValidationError
    from constructs_lib.observability import PrometheusWorkspace

    stack = Stack(new_app(tmp_path), "S")
    arn = "arn:aws:aps:eu-west-1:123456789012:workspace/ws-0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    imported = PrometheusWorkspace.from_workspace_arn(stack, "W", arn)
    assert imported.workspace_arn == arn
    assert stack.resolve(imported.remote_write_url) == {"Fn::Join": ["", [
        "https://aps-workspaces.eu-west-1.", {"Ref": "AWS::URLSuffix"},
        "/workspaces/ws-0a1b2c3d-4e5f-6789-abcd-ef0123456789/api/v1/remote_write"]]}
    with pytest.raises(PlatformValidationError, match=r"workspace_arn: got 'arn:aws:aps:eu-west-1:123456789012:rulegroup/x'; "
                                                      r"an Amazon Managed Service for Prometheus workspace ARN"):
        PrometheusWorkspace.from_workspace_arn(stack, "Bad", "arn:aws:aps:eu-west-1:123456789012:rulegroup/x")
    with pytest.raises(PlatformValidationError, match=r"alias: got ''; 1-100 characters"):
        PrometheusWorkspace(stack, "Empty", alias="", encryption_key=None)


# -- config ---------------------------------------------------------------------------------------------
def _config(observability, *, clusters=True):
    import yaml

    from stacks.config import DEFAULT_CONFIG, parse_config

    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    data["observability"] = observability
    if not clusters:
        data.pop("training_clusters")
    return lambda: parse_config(data, source="bad.yaml")


@pytest.mark.parametrize(("observability", "clusters", "message"), [
    ({"prometheus": {"workspace": "yes"}}, True,
     r"observability\.prometheus\.workspace: got 'yes'; 'create' or an Amazon Managed Service for Prometheus workspace ARN"),
    ({"prometheus": {}}, True, r"observability\.prometheus\.workspace: got None; required key is missing"),
    ({"prometheus": {"workspace": "create", "grafana": True}}, True, r"observability\.prometheus\.grafana: got True; unknown key"),
    ({"prometheus": {"workspace": "create"}}, False,
     r"observability\.prometheus: got \{'workspace': 'create'\}; only with training_clusters"),
])
def test_bad_prometheus_config_is_refused_with_its_path(observability, clusters, message):
    from constructs_lib.errors import PlatformValidationError

    with pytest.raises(PlatformValidationError, match=message):
        _config(observability, clusters=clusters)()


@pytest.mark.parametrize("workspace", ["create", "arn:aws:aps:us-east-1:123456789012:workspace/ws-0a1b2c3d"])
def test_the_training_stack_gives_every_cluster_the_workspace(workspace):
    """Constructed, not synthesized: the stack wires the option to each cluster (the small stack above
    shows what a cluster does with it)."""
    from aws_cdk import Stack
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_sns as sns

    from constructs_lib import PlatformKey
    from constructs_lib.observability import ImportedPrometheusWorkspace, PrometheusWorkspace
    from stacks.training_stack import TrainingStack

    config = _config({"prometheus": {"workspace": workspace}})()
    app = new_app()
    base = Stack(app, "Base")
    stack = TrainingStack(
        app, "Training", config=config, key=PlatformKey(base, "Key", alias="alias/t").key,
        vpc=ec2.Vpc(base, "Vpc", availability_zones=AZS), topic=sns.Topic(base, "Topic"),
    )
    expected = PrometheusWorkspace if workspace == "create" else ImportedPrometheusWorkspace
    assert isinstance(stack.prometheus, expected)
    assert all(c.prometheus is stack.prometheus for c in stack.clusters.values())
