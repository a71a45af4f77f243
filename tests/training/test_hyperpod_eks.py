"""HyperPod on EKS at the construct level: the rules of ``HyperPodEksCluster`` and
``HyperPodEksDependencies``, the FSx PersistentVolume, the VPC CNI policy and security groups of an
EKS-orchestrated ``HyperPodCluster`` (read from the session's ``training_app`` synth), and a dry run
of the EKS lifecycle entry point ``on_create.sh`` with ``setup_container_runtime.sh``.

The synthesized EKS cluster, add-ons, chart and volume (all nag packs, cfn-lint) are asserted on the
platform's one EKS synth in ``tests/test_training_stack.py`` (``two_clusters``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from training_testkit import EKS_CLUSTER_ARN, EKS_CLUSTER_SG, new_stack, only, resources

from constructs_lib.errors import PlatformValidationError

ADMIN = "arn:aws:iam::123456789012:role/MlAdmin"


def _network(stack):
    from constructs_lib.training import TrainingNetwork

    return TrainingNetwork(stack, "Network", availability_zones=["us-east-1a", "us-east-1b"], interface_endpoints=())


def _eks_cluster(**changes):
    from constructs_lib.training._resources import create_key
    from constructs_lib.training.eks import HyperPodEksCluster

    stack = new_stack()
    network = _network(stack)
    props = dict(
        cluster_name="ml-eks", vpc=network.vpc, subnets=network.private_subnets,
        encryption_key=create_key(stack, "Key", description="test"), admins=[ADMIN],
    )
    props.update(changes)
    return HyperPodEksCluster(stack, "Eks", **props)


# -- HyperPodEksCluster rules ----------------------------------------------------------------------------
def test_eks_cluster_version_must_be_hyperpod_supported_and_within_kubectl_skew():
    """SageMaker Developer Guide, EKS prerequisites: HyperPod supports Kubernetes 1.28-1.34; the pinned
    kubectl layer is 1.33 (kubectl supports one minor version of skew)."""
    with pytest.raises(PlatformValidationError, match=r"version: got '1\.29'; one of 1\.32, 1\.33, 1\.34 "
                       r"\(HyperPod-supported and within one minor version of the pinned kubectl 1\.33\)"):
        _eks_cluster(version="1.29")


def test_eks_cluster_admins_cidrs_name_and_subnets_are_checked_at_once():
    with pytest.raises(PlatformValidationError) as caught:
        _eks_cluster(cluster_name="-bad", admins=["MlAdmin"], public_access_cidrs=["0.0.0.0", "10.0.0.0/33"],
                     subnets=[])
    text = str(caught.value)
    for expected in (
        r"cluster_name: got '-bad'; 1-100 letters, digits, hyphens and underscores",
        r"admins\[0\]: got 'MlAdmin'; an IAM role or user ARN",
        r"public_access_cidrs\[0\]: got '0\.0\.0\.0'; an IPv4 CIDR block such as 203\.0\.113\.0/24",
        r"public_access_cidrs\[1\]: got '10\.0\.0\.0/33'; an IPv4 CIDR block",
        r"subnets: got '0 subnets'; at least 2 subnets in different availability zones",
    ):
        assert __import__("re").search(expected, text), expected


def test_eks_cluster_public_endpoint_only_for_listed_cidrs():
    """EKS User Guide, "Cluster API server endpoint": public access restricted to CIDR blocks."""
    from aws_cdk import Stack

    cluster = _eks_cluster(public_access_cidrs=["203.0.113.0/24"])
    vpc_config = Stack.of(cluster).resolve(cluster.resource.resources_vpc_config)
    assert (vpc_config["endpointPublicAccess"], vpc_config["publicAccessCidrs"]) == (True, ["203.0.113.0/24"])
    assert vpc_config["endpointPrivateAccess"] is True


# -- HyperPodEksDependencies rules ---------------------------------------------------------------------
def _dependencies(tmp_path=None, **changes):
    from constructs_lib.training.eks import HyperPodEksDependencies

    stack = new_stack()
    network = _network(stack)
    props = dict(cluster_name="ml", cluster_security_group_id=EKS_CLUSTER_SG, vpc=network.vpc,
                 subnets=network.private_subnets)
    props.update(changes)
    return HyperPodEksDependencies(stack, "Deps", **props)


def test_dependencies_chart_folder_must_hold_a_chart(tmp_path):
    from constructs_lib.training.eks import HyperPodDependenciesChart

    with pytest.raises(PlatformValidationError, match=r"dependencies_chart\.directory: got '.*nowhere'; a folder "
                       r"with Chart\.yaml: AWS's helm_chart/HyperPodHelmChart after `helm dependencies update`"):
        _dependencies(dependencies_chart=HyperPodDependenciesChart(directory=str(tmp_path / "nowhere")))


def test_chart_and_volumes_need_the_installer(tmp_path):
    from constructs_lib.training.eks import HyperPodDependenciesChart

    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    with pytest.raises(PlatformValidationError) as caught:
        _dependencies(dependencies_chart=HyperPodDependenciesChart(directory=str(tmp_path)),
                      lustre_volumes=[object()], installer=False)
    assert [str(p) for p in caught.value.problems] == [
        "installer: got False; true with dependencies_chart (the chart is installed by it)",
        "installer: got False; true with lustre_volumes (the PersistentVolume is applied by it), or no lustre_volumes",
    ]


# -- the vendored hyperpod-dependencies chart and cert-manager --------------------------------------------
def _chart_yaml(path: Path) -> dict:
    import yaml

    return yaml.safe_load((path / "Chart.yaml").read_text())


def _semver(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in str(version).lstrip("v").split("."))


def test_vendored_chart_carries_every_dependency_its_chart_yaml_lists():
    """`helm upgrade --install <folder>` (what aws-cdk-lib's kubectl handler runs for a chart asset, without
    --dependency-update) refuses a chart whose Chart.yaml lists a dependency missing from charts/ (Helm's
    action.CheckDependencies); each listed version must match the subchart's. One copy per subchart: Helm
    would load either of two."""
    from constructs_lib.training.eks import VENDORED_CHART_DIRECTORY

    root = Path(VENDORED_CHART_DIRECTORY)
    chart = _chart_yaml(root)
    assert chart["name"] == "hyperpod-helm-chart" and chart["version"] == "0.1.0"
    subcharts = {}
    for folder in sorted(p for p in (root / "charts").iterdir()):
        assert folder.is_dir(), f"{folder.name}: only unpacked subcharts (an archive would shadow or duplicate one)"
        meta = _chart_yaml(folder)
        subcharts[meta["name"]] = meta["version"]
    listed = {d["name"]: d["version"] for d in chart["dependencies"]}
    assert sorted(listed) == sorted(subcharts)
    assert {n: _semver(v) for n, v in listed.items()} == {n: _semver(v) for n, v in subcharts.items()}
    # The remote ones, vendored at the versions AWS's Chart.yaml pins.
    assert (listed["nvidia-device-plugin"], listed["aws-efa-k8s-device-plugin"]) == ("0.16.1", "0.5.20")
    assert "cert-manager" not in listed  # the EKS community add-on instead (EksAddon.CERT_MANAGER)
    for license_dir in (root, root / "charts/nvidia-device-plugin", root / "charts/aws-efa-k8s-device-plugin"):
        assert "Apache License" in (license_dir / "LICENSE").read_text()
    notice = (root / "NOTICE").read_text()
    for source in ("aws/sagemaker-hyperpod-cli", "011ca927123e02b35a399935bbb3ab1905fe33c7",
                   "NVIDIA/k8s-device-plugin", "cb6e45ec357705e6458f753eb04a4bde31ec18cf",
                   "aws/eks-charts", "de5fdc1dae279f99c00e9fcac24b9a894dbc052f"):
        assert source in notice, source


def test_vendored_chart_installs_the_kubeflow_training_operator_and_resiliency_parts_by_default():
    """The chart's README ("Package structure"): the Kubeflow training operator (PyTorchJob et al. CRDs),
    MPI operator, health-monitoring agent, deep health check, job auto-restart and the device plugins are
    on by default; cert-manager is the HyperPod training operator's prerequisite, off in the chart."""
    import yaml

    from constructs_lib.training.eks import VENDORED_CHART_DIRECTORY

    root = Path(VENDORED_CHART_DIRECTORY)
    values = yaml.safe_load((root / "values.yaml").read_text())
    assert values["trainingOperators"]["enabled"] is True
    for key in ("mpi-operator", "health-monitoring-agent", "deep-health-check", "job-auto-restart", "hyperpod-patching"):
        assert values[key]["enabled"] is True, key
    for key in ("nvidia-device-plugin", "neuron-device-plugin", "aws-efa-k8s-device-plugin"):
        assert values[key]["devicePlugin"]["enabled"] is True, key
    assert values["inferenceOperators"]["enabled"] is False and values["gpu-operator"]["enabled"] is False
    operator = yaml.safe_load((root / "charts/training-operators/values.yaml").read_text())
    assert "pytorchjob" in operator["schemes"]  # --enable-scheme=pytorchjob on the operator's Deployment
    # The CRD's head only (the 0.6 MB schema below spec.versions would take seconds to parse).
    text = (root / "charts/training-operators/crds/pytorchjobs.kubeflow.org-CustomResourceDefinition.yaml").read_text()
    crd = yaml.safe_load(text.split("\n  versions:\n", 1)[0])
    assert (crd["kind"], crd["spec"]["group"], crd["spec"]["names"]["kind"], crd["spec"]["scope"]) == (
        "CustomResourceDefinition", "kubeflow.org", "PyTorchJob", "Namespaced")


def test_vendored_chart_refuses_values_for_subcharts_it_cannot_install():
    from constructs_lib.training.eks import HyperPodDependenciesChart

    with pytest.raises(PlatformValidationError) as caught:
        _dependencies(dependencies_chart=HyperPodDependenciesChart(values={
            "cert-manager": {"enabled": True}, "inferenceOperators": {"enabled": True},
            "gpu-operator": {"enabled": "true"}, "mlflow": {"enabled": True}}))
    assert [str(p) for p in caught.value.problems] == [
        ("dependencies_chart.values.cert-manager.enabled: got True; false with the vendored chart, which cannot "
        "install cert-manager (removed from the vendored chart's dependencies): use the cert-manager EKS add-on in "
         "addons instead"),
        ("dependencies_chart.values.inferenceOperators.enabled: got True; false with the vendored chart, which "
        "cannot install the HyperPod inference operator (its subcharts come from remote Helm repositories): "
        "install it yourself, or point dependencies_chart at your own copy"),
        ("dependencies_chart.values.gpu-operator.enabled: got 'true'; false with the vendored chart, which cannot "
        "install the NVIDIA GPU operator (its subchart comes from helm.ngc.nvidia.com): install it yourself, or "
        "point dependencies_chart at your own copy"),
    ]


def test_chart_values_merge_like_helm():
    """Mappings merge key by key (Helm's coalescing of values files); the user's values win."""
    from constructs_lib.training.eks import _merged

    assert _merged({"global": {"region": "us-east-1", "a": 1}, "crds": {"enabled": True}},
                   {"global": {"region": "eu-west-1"}, "crds": None, "x": [1]}) == {
        "global": {"region": "eu-west-1", "a": 1}, "crds": None, "x": [1]}


def test_addons_are_known_and_unique():
    with pytest.raises(PlatformValidationError) as caught:
        _dependencies(addons=["vpc-cni", "vpc-cni", "weave"])
    assert [str(p) for p in caught.value.problems] == [
        ("addons[2]: got 'weave'; one of vpc-cni, kube-proxy, coredns, eks-pod-identity-agent, cert-manager, "
        "aws-fsx-csi-driver, amazon-cloudwatch-observability"),
        "addons: got ['vpc-cni', 'vpc-cni', 'weave']; each add-on at most once",
    ]


def test_addons_only_need_no_kubectl_handler():
    """Add-ons alone are plain AWS::EKS::Addon resources: no Lambda, no access entry."""
    from aws_cdk import Stack

    from constructs_lib.training.eks import EXISTING_CLUSTER_ADDONS

    deps = _dependencies(addons=list(EXISTING_CLUSTER_ADDONS))
    assert deps.kubectl_role is None and deps.installer_access_entry is None
    (addon,) = deps.addons.values()
    assert Stack.of(deps).resolve(addon.addon_name) == "eks-pod-identity-agent"
    assert addon.resolve_conflicts == "OVERWRITE" and addon.addon_version is None


def test_existing_cluster_security_group_id_is_checked():
    from constructs_lib.training import EksOrchestration, HyperPodCluster, InstanceGroup

    stack = new_stack()
    with pytest.raises(PlatformValidationError, match=r"orchestration\.cluster_security_group_id: got 'default'; "
                       r"the EKS cluster security group id \(sg-\.\.\."):
        HyperPodCluster(
            stack, "Cluster", cluster_name="c", network=_network(stack),
            orchestration=EksOrchestration(cluster_arn=EKS_CLUSTER_ARN, cluster_security_group_id="default"),
            instance_groups=[InstanceGroup(name="gpu", instance_type="ml.g5.8xlarge", instance_count=1)],
        )


def test_lustre_volume_manifest_is_a_static_csi_volume_and_its_claim():
    """FSx for Lustre CSI driver, static provisioning: volumeHandle = file system id, dnsname and
    mountname attributes; ReadWriteMany; the volume is retained."""
    from constructs_lib.training.eks import lustre_volume_manifests

    volume, claim = lustre_volume_manifests(
        name="fsx", file_system_id="fs-0123456789abcdef0", dns_name="fs-0123456789abcdef0.fsx.us-east-1.amazonaws.com",
        mount_name="abcdefgh", storage_gib=2400, namespace="training",
    )
    assert volume["spec"] == {
        "capacity": {"storage": "2400Gi"},
        "volumeMode": "Filesystem",
        "accessModes": ["ReadWriteMany"],
        "mountOptions": ["flock"],
        "persistentVolumeReclaimPolicy": "Retain",
        "storageClassName": "",
        "claimRef": {"name": "fsx-claim", "namespace": "training"},
        "csi": {
            "driver": "fsx.csi.aws.com",
            "volumeHandle": "fs-0123456789abcdef0",
            "volumeAttributes": {"dnsname": "fs-0123456789abcdef0.fsx.us-east-1.amazonaws.com", "mountname": "abcdefgh"},
        },
    }
    assert claim == {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "fsx-claim", "namespace": "training"},
        "spec": {"accessModes": ["ReadWriteMany"], "storageClassName": "", "volumeName": "fsx-pv",
                 "resources": {"requests": {"storage": "2400Gi"}}},
    }


# -- the EKS-orchestrated cluster of the session synth ------------------------------------------------
@pytest.mark.xdist_group("training-synth")
def test_eks_nodes_join_the_eks_cluster_security_group_and_keep_the_efa_self_rules(training_app):
    """EKS User Guide, "View Amazon EKS security group requirements for clusters": the cluster security
    group lets the control plane reach kubelet (10250) and nodes reach the API (443) and CoreDNS (53); the
    EFA group keeps all traffic to and from itself (EC2 User Guide, EFA security group)."""
    template = training_app.templates["eks"]
    _, cluster = only(template, "AWS::SageMaker::Cluster")
    groups = cluster["Properties"]["VpcConfig"]["SecurityGroupIds"]
    efa_id = groups[0]["Fn::GetAtt"][0]
    assert groups == [{"Fn::GetAtt": [efa_id, "GroupId"]}, EKS_CLUSTER_SG]
    self_ref = {"Fn::GetAtt": [efa_id, "GroupId"]}
    egress = [r["Properties"] for r in resources(template, "AWS::EC2::SecurityGroupEgress").values()
              if r["Properties"]["GroupId"] == self_ref]
    assert any(r.get("DestinationSecurityGroupId") == self_ref and r["IpProtocol"] == "-1" for r in egress)
    ingress = [r["Properties"] for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
               if r["Properties"]["GroupId"] == self_ref]
    assert any(r["SourceSecurityGroupId"] == self_ref and r["IpProtocol"] == "-1" for r in ingress)


@pytest.mark.xdist_group("training-synth")
def test_eks_execution_role_has_the_amazon_eks_cni_policy_actions_scoped(training_app):
    """AmazonEKS_CNI_Policy (AWS managed policy reference, v5) as statements scoped per the IAM action
    table bundled with cfn-lint: describes on *, interface actions on this account's ENIs, attach/detach/
    modify also on the region's instances, creation on the cluster's subnets and security group."""
    template = training_app.templates["eks"]
    policy_id = next(k for k in resources(template, "AWS::IAM::ManagedPolicy") if k.startswith("ClusterVpcCniPolicy"))
    policy = template["Resources"][policy_id]["Properties"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    eni = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ec2:", {"Ref": "AWS::Region"}, ":",
                             {"Ref": "AWS::AccountId"}, ":network-interface/*"]]}
    assert statements["CniDescribe"]["Action"] == [
        "ec2:DescribeInstanceTypes", "ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets", "ec2:DescribeTags"]
    assert statements["CniDescribe"]["Resource"] == "*"
    assert statements["CniManageInterfaces"]["Action"] == [
        "ec2:AssignPrivateIpAddresses", "ec2:DeleteNetworkInterface", "ec2:UnassignPrivateIpAddresses"]
    assert statements["CniManageInterfaces"]["Resource"] == eni
    assert statements["CniTagInterfaces"] == {"Action": "ec2:CreateTags", "Effect": "Allow", "Resource": eni,
                                              "Sid": "CniTagInterfaces"}
    attach = statements["CniAttachInterfaces"]
    assert attach["Action"] == ["ec2:AttachNetworkInterface", "ec2:DetachNetworkInterface",
                                "ec2:ModifyNetworkInterfaceAttribute"]
    instance = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ec2:", {"Ref": "AWS::Region"}, ":*:instance/*"]]}
    assert eni in attach["Resource"] and instance in attach["Resource"]
    assert len(attach["Resource"]) == 2 + 2 + 1  # ENIs, instances, the two private subnets, the EFA group
    create = statements["CniCreateInterfaces"]
    assert create["Action"] == "ec2:CreateNetworkInterface" and eni in create["Resource"]
    assert len(create["Resource"]) == 1 + 2 + 1  # ENIs, the two private subnets, the EFA group
    role_id = training_app.resolve("eks", training_app.eks.execution_role.role_name)["Ref"]
    assert policy["Roles"] == [{"Ref": role_id}]
    _, cluster = only(template, "AWS::SageMaker::Cluster")
    assert policy_id in cluster["DependsOn"]  # attached before HyperPod assumes the role


# -- on_create.sh + setup_container_runtime.sh (EKS) -----------------------------------------------------------------------------------
def _stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/usr/bin/env bash\n" + body + "\n")
    path.chmod(0o755)


RESOURCE_CONFIG = {
    "ClusterConfig": {"ClusterArn": "arn:aws:sagemaker:us-east-1:123456789012:cluster/abcd1234efgh",
                      "ClusterName": "eks-train"},
    "InstanceGroups": [{"Name": "gpu", "InstanceType": "ml.g5.8xlarge", "Instances": [
        {"InstanceName": "gpu-1", "AgentIpAddress": "172.16.0.12", "CustomerIpAddress": "10.0.64.12",
         "InstanceId": "i-0cccccccccccccccc"}]}],
}
LAYOUT = {"version": "2.0.0", "workload_manager": "eks", "cluster_name": "eks-train", "groups": {"gpu": "compute"}}
CONTAINERD_CONFIG = 'version = 2\nroot = "/var/lib/containerd"\nstate = "/run/containerd"\n\n[grpc]\naddress = "/run/containerd/containerd.sock"\n'


@pytest.fixture
def eks_node(tmp_path):
    """A fake EKS node: staged scripts, stub commands, system paths redirected into tmp_path."""
    from constructs_lib.training import _lifecycle
    from constructs_lib.training.metrics import cloudwatch_agent_config

    scripts = tmp_path / "lifecycle"
    shutil.copytree(_lifecycle.stage_scripts(json.dumps(cloudwatch_agent_config(cluster_name="eks-train"))), scripts)
    (scripts / _lifecycle.NODE_LAYOUT).write_text(json.dumps(LAYOUT))
    root = tmp_path / "root"
    for sub in ("etc/containerd", "etc/eks/containerd", "etc/systemd/system", "opt/sagemaker", "opt/cwagent/bin",
                "var/lib/containerd/io.containerd.content.v1.content", "var/lib/kubelet/pods"):
        (root / sub).mkdir(parents=True)
    (root / "etc/containerd/config.toml").write_text(CONTAINERD_CONFIG)
    (root / "etc/eks/containerd/containerd-config.toml").write_text('#root = "/var/lib/containerd"\nversion = 2\n')
    (root / "var/lib/containerd/io.containerd.content.v1.content/blob").write_text("layer")
    (root / "var/lib/kubelet/pods/pod.json").write_text("{}")
    (root / "resource_config.json").write_text(json.dumps(RESOURCE_CONFIG))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.log"
    _stub(bin_dir, "hostname", f'[[ "$1" == "-I" ]] && echo "10.0.64.12 127.0.0.1"; echo "hostname $*" >> {calls}')
    _stub(bin_dir, "mountpoint", f'echo "mountpoint $*" >> {calls}; [[ "$2" == "{root}/opt/sagemaker" && -f {tmp_path}/mounted ]]')
    _stub(bin_dir, "systemctl", f'echo "systemctl $*" >> {calls}')
    _stub(bin_dir, "sleep", "exit 0")
    _stub(bin_dir, "getent", "exit 0")
    _stub(bin_dir, "curl", f'echo "curl $*" >> {calls}; exit 1')
    _stub(root / "opt/cwagent/bin", "amazon-cloudwatch-agent-ctl", f'echo "agent $*" >> {calls}')

    def run(os_version: str, mounted: bool = True) -> subprocess.CompletedProcess:
        (root / "os-release").write_text(f'NAME="Amazon Linux"\nVERSION_ID="{os_version}"\n')
        if mounted:
            (tmp_path / "mounted").touch()
        env = {
            "PATH": f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "SAGEMAKER_RESOURCE_CONFIG_PATH": str(root / "resource_config.json"),
            "AIPLATFORM_LOG_DIR": str(root / "var/log/provision"),
            "AIPLATFORM_STATE_DIR": str(root / "etc/aiplatform"),
            "AIPLATFORM_AGENT_DIR": str(root / "opt/cwagent"),
            "AIPLATFORM_SAGEMAKER_VOLUME": str(root / "opt/sagemaker"),
            "AIPLATFORM_OS_RELEASE": str(root / "os-release"),
            "AIPLATFORM_CONTAINERD_CONFIG": str(root / "etc/containerd/config.toml"),
            "AIPLATFORM_EKS_CONTAINERD_CONFIG": str(root / "etc/eks/containerd/containerd-config.toml"),
            "AIPLATFORM_SYSTEMD_DIR": str(root / "etc/systemd/system"),
            "AIPLATFORM_CONTAINERD_DIR": str(root / "var/lib/containerd"),
            "AIPLATFORM_KUBELET_DIR": str(root / "var/lib/kubelet"),
            "AIPLATFORM_MOUNT_WAIT_SECONDS": "10",
        }
        return subprocess.run(["sh", str(scripts / _lifecycle.ON_CREATE)], env=env, capture_output=True, text=True,
                              timeout=60, check=False)

    return run, root, calls


@pytest.mark.skipif(os.name != "posix", reason="bash dry run")
def test_eks_on_create_moves_the_containerd_data_root_to_opt_sagemaker_on_al2023(eks_node):
    """As AWS's EKS lifecycle script does (awsome-distributed-training, 7.sagemaker-hyperpod-eks
    on_create_main.sh): containerd's root and kubelet's directory on the /opt/sagemaker EBS volume."""
    run, root, calls = eks_node
    result = run("2023")
    assert result.returncode == 0, result.stdout + result.stderr
    volume = root / "opt/sagemaker"
    config = (volume / "containerd/config.toml").read_text()
    assert config.splitlines()[:3] == ["version = 2", f'root = "{volume}/containerd/data-root"', 'state = "/run/containerd"']
    assert '[grpc]\naddress = "/run/containerd/containerd.sock"' in config  # the node's own settings kept
    dropin = (root / "etc/systemd/system/containerd.service.d/aiplatform-data-root.conf").read_text()
    assert f"RequiresMountsFor={volume}" in dropin
    assert f"ExecStart=\nExecStart=/usr/bin/containerd --config {volume}/containerd/config.toml" in dropin
    assert (volume / "containerd/data-root/io.containerd.content.v1.content/blob").read_text() == "layer"
    kubelet = root / "var/lib/kubelet"
    assert kubelet.is_symlink() and kubelet.resolve() == (volume / "kubelet").resolve()
    assert (volume / "kubelet/pods/pod.json").exists()
    log = calls.read_text()
    assert "systemctl daemon-reload" in log and "systemctl try-restart containerd.service" in log
    # Then the shared steps of on_create.sh ran (node facts, CloudWatch agent).
    assert "WORKLOAD_MANAGER=eks" in (root / "etc/aiplatform/node.env").read_text()
    assert "agent -a fetch-config" in log
    # Rerunnable: the second run keeps one root line and the symlink.
    again = run("2023")
    assert again.returncode == 0, again.stdout + again.stderr
    assert (volume / "containerd/config.toml").read_text().count("root = ") == 1
    assert "kubelet directory already on" in (root / "var/log/provision/provisioning.log").read_text()


@pytest.mark.skipif(os.name != "posix", reason="bash dry run")
def test_eks_on_create_sets_the_root_in_the_eks_containerd_config_on_al2(eks_node):
    run, root, _ = eks_node
    result = run("2")
    assert result.returncode == 0, result.stdout + result.stderr
    config = (root / "etc/eks/containerd/containerd-config.toml").read_text()
    assert config == f'root = "{root}/opt/sagemaker/containerd/data-root"\nversion = 2\n'
    assert not (root / "etc/systemd/system/containerd.service.d").exists()


@pytest.mark.skipif(os.name != "posix", reason="bash dry run")
def test_eks_on_create_leaves_the_runtime_alone_without_the_ebs_volume(eks_node):
    run, root, _ = eks_node
    result = run("2023", mounted=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (root / "etc/containerd/config.toml").read_text() == CONTAINERD_CONFIG
    assert not (root / "opt/sagemaker/containerd").exists()
    assert not (root / "var/lib/kubelet").is_symlink()
    assert "no ebs_volume_gb on this group" in (root / "var/log/provision/provisioning.log").read_text()
