"""The optional managed Prometheus path and node monitoring on a HyperPodCluster, in the shared
training app (``training_app``: its Slurm cluster has ``prometheus=PrometheusWorkspace(...)`` and
``node_monitoring=NodeMonitoring(idle_gpu_floor_percent=15, dcgm=True)``; every nag pack and cfn-lint
run over it in ``test_training_compliance.py``).

What the option adds: the workspace with the customer-managed key (``AWS::APS::Workspace``
``KmsKeyArn``, create-only in the CloudFormation schema bundled with cfn-lint), retained; the nodes'
``aps:RemoteWrite`` on that workspace only; the remote-write URL in the node layout; dcgm-exporter's
metrics file and the node collector's config in the lifecycle asset. ``tests/test_prometheus.py``
shows that the default platform (option off) has none of it.
"""

from __future__ import annotations

import json

from training_testkit import SLURM_CLUSTER

from tests.conftest import only, resources_of


class _T:
    def __init__(self, training_app):
        self.raw = training_app.templates["slurm"]


def _asset_with(training_app, name):
    found = list(training_app.outdir.glob(f"asset.*/{name}"))
    assert len(found) == 1, found
    return found[0]


def test_workspace_is_encrypted_with_the_customer_managed_key_and_retained(training_app):
    t = _T(training_app)
    _, workspace = only(t, "AWS::APS::Workspace")
    key_id = training_app.resolve("slurm", training_app.platform.encryption_key.key_arn)["Fn::GetAtt"][0]
    assert workspace["Properties"] == {"Alias": "llm-pretrain-metrics", "KmsKeyArn": {"Fn::GetAtt": [key_id, "Arn"]}}
    assert (workspace["DeletionPolicy"], workspace["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_nodes_may_remote_write_to_that_workspace_only(training_app):
    t = _T(training_app)
    workspace_id, _ = only(t, "AWS::APS::Workspace")
    (policy,) = [v["Properties"] for k, v in resources_of(t, "AWS::IAM::ManagedPolicy").items()
                 if k.startswith("ClusterPrometheusRemoteWritePolicy")]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert set(statements) == {"RemoteWrite", "EcrLoginForExporters", "PullExporterImages"}
    assert statements["RemoteWrite"] == {"Sid": "RemoteWrite", "Effect": "Allow", "Action": "aps:RemoteWrite",
                                         "Resource": {"Fn::GetAtt": [workspace_id, "Arn"]}}
    pulls = statements["PullExporterImages"]
    assert pulls["Action"] == ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    assert pulls["Resource"] == [
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ecr:", {"Ref": "AWS::Region"},
                           f":602401143452:repository/hyperpod/{name}"]]}
        for name in ("dcgm_exporter", "otel_collector")]
    assert statements["EcrLoginForExporters"]["Action"] == "ecr:GetAuthorizationToken"
    role = training_app.resolve("slurm", training_app.slurm.execution_role.role_name)
    assert policy["Roles"] == [role]
    every_aps = [s for p in resources_of(t, "AWS::IAM::ManagedPolicy").values()
                 for s in p["Properties"]["PolicyDocument"]["Statement"] if "aps:" in json.dumps(s["Action"])]
    assert every_aps == [statements["RemoteWrite"]]
    # The cluster waits for the policy (HyperPod assumes the role while provisioning).
    cluster = only(t, "AWS::SageMaker::Cluster")[1]
    (policy_id,) = [k for k in resources_of(t, "AWS::IAM::ManagedPolicy") if k.startswith("ClusterPrometheusRemoteWritePolicy")]
    assert policy_id in cluster["DependsOn"]


def test_remote_write_url_and_collector_files_reach_the_nodes(training_app):
    from constructs_lib.training.collector import NodeMonitoring, collector_config, dcgm_exporter_csv

    workspace_id = only(_T(training_app), "AWS::APS::Workspace")[0]
    layout = training_app.resolve("slurm", training_app.slurm.node_layout)
    assert layout["prometheus"] == {"remote_write_url": {"Fn::Join": ["", [
        {"Fn::GetAtt": [workspace_id, "PrometheusEndpoint"]}, "api/v1/remote_write"]]}}
    csv = _asset_with(training_app, "dcgm_exporter_metrics.csv")
    assert csv.read_text() == dcgm_exporter_csv()
    assert (csv.parent / "install_prometheus_forwarder.sh").is_file()
    collector = _asset_with(training_app, "node_collector.json")
    assert json.loads(collector.read_text()) == collector_config(
        cluster_name=SLURM_CLUSTER, monitoring=NodeMonitoring(idle_gpu_floor_percent=15, dcgm=True))
    # The EKS cluster of the app has neither option: its asset carries neither file.
    eks_assets = {p.parent for p in training_app.outdir.glob("asset.*/on_create.sh")}
    assert len(eks_assets) == 2 and sum((a / "node_collector.json").exists() for a in eks_assets) == 1
