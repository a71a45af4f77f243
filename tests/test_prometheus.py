"""The optional managed Prometheus path (``observability.prometheus: {workspace: create | <arn>}``).

What a cluster does with a workspace (KMS, retained, scoped aps:RemoteWrite, remote-write URL and
exporter files on the nodes) is asserted on the shared training app in
``tests/training/test_cluster_observability_options.py``; here: the config, the training stack's
wiring, an imported workspace, and that the default platform (option off) has none of it.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import new_app, resources_of

AZS = ["us-east-1a", "us-east-1b"]


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
# A small config (one Slurm cluster) keeps each parse cheap; the default platform's cluster is above.
_MINIMAL = {
    "platform": {"name": "acme-ml", "environment": "dev"},
    "network": {"max_azs": 2},
    "training_clusters": [{"name": "llm-pretrain", "instance_groups": [
        {"name": "controller", "role": "controller", "instance_type": "ml.m5.xlarge", "count": 1},
        {"name": "workers", "instance_type": "ml.g5.2xlarge", "count": 2},
    ]}],
}


def _config(observability, *, clusters=True):
    import copy

    from stacks.config import parse_config

    data = copy.deepcopy(_MINIMAL)
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
