"""Every template under templates/ synthesizes with the five nag packs, passes cfn-lint, and builds
what its README promises. One module-scoped synth: a Stage per template in one App."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from aws_cdk import Stage

from tests.conftest import REPO, lint_template, new_app

TEMPLATES = REPO / "templates"
pytestmark = pytest.mark.xdist_group("templates")  # one worker shares the module's synth
PLATFORM_TEMPLATES = ("llm-serving", "distributed-pretraining", "async-batch-scoring", "serverless-embeddings",
                      "hyperpod-eks")


def _stage_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


# session: xdist may interleave other modules, which would rebuild a module-scoped synth
@pytest.fixture(scope="session")
def templates(tmp_path_factory) -> dict[str, dict[str, dict]]:
    """template name -> stack name -> template body, all synthesized in one pass with every nag pack."""
    from constructs_lib import add_compliance_checks
    from stacks.config import load_config
    from stacks.platform import build_platform

    outdir = tmp_path_factory.mktemp("templates-cdk-out")
    app = new_app(outdir)
    for name in PLATFORM_TEMPLATES:
        build_platform(Stage(app, _stage_id(name)), load_config(TEMPLATES / name / "config.yaml"))
    spec = importlib.util.spec_from_file_location("byo_app", TEMPLATES / "byo-app" / "app.py")
    byo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(byo)
    byo.build(Stage(app, "ByoApp"))
    add_compliance_checks(app)
    app.synth()  # raises on any unacknowledged nag finding
    out: dict[str, dict[str, dict]] = {}
    for name in (*PLATFORM_TEMPLATES, "byo-app"):
        assembly = outdir / f"assembly-{_stage_id(name)}"
        manifest = json.loads((assembly / "manifest.json").read_text())
        out[name] = {
            a["displayName"].split("/")[-1] if "displayName" in a else key: json.loads((assembly / a["properties"]["templateFile"]).read_text())
            for key, a in manifest["artifacts"].items() if a["type"] == "aws:cloudformation:stack"
        }
        out[name]["__files__"] = sorted(str(p) for p in assembly.glob("*.template.json"))
    return out


def _resources(body: dict, cfn_type: str) -> list[dict]:
    return [r["Properties"] for r in body["Resources"].values() if r["Type"] == cfn_type]


def test_every_template_folder_has_a_config_or_app_and_a_readme():
    folders = sorted(p.name for p in TEMPLATES.iterdir() if p.is_dir())
    assert folders == sorted((*PLATFORM_TEMPLATES, "byo-app"))
    for name in PLATFORM_TEMPLATES:
        assert (TEMPLATES / name / "config.yaml").is_file() and (TEMPLATES / name / "README.md").is_file()
    byo = TEMPLATES / "byo-app"
    assert json.loads((byo / "cdk.json").read_text())["app"] == ".venv/bin/python app.py"
    assert json.loads((byo / "cdk.json").read_text())["context"] == json.loads((REPO / "cdk.json").read_text())["context"]


def test_templates_pass_cfn_lint(templates):
    files = [f for t in templates.values() for f in t["__files__"]]
    assert len(files) >= 5 * 1 + 4 * 4
    # The in-process helper with .cfnlintrc.yaml's ignores (it agrees with the CLI: test_compliance),
    # without a CLI start and a rule load per run.
    assert [finding for f in files for finding in lint_template(Path(f))] == []


def test_llm_serving_scales_components_and_instances_to_zero_with_slo_alarms(templates):
    stacks = templates["llm-serving"]
    (component,) = _resources(stacks["llm-serve-dev-inference"], "AWS::SageMaker::InferenceComponent")
    assert component["Specification"]["ComputeResourceRequirements"]["NumberOfAcceleratorDevicesRequired"] == 1
    (config,) = _resources(stacks["llm-serve-dev-inference"], "AWS::SageMaker::EndpointConfig")
    assert config["ProductionVariants"][0]["ManagedInstanceScaling"] == {"Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": 2}
    targets = _resources(stacks["llm-serve-dev-inference"], "AWS::ApplicationAutoScaling::ScalableTarget")
    assert [(t["ScalableDimension"], t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [
        ("sagemaker:inference-component:DesiredCopyCount", 0, 4)
    ]
    composites = _resources(stacks["llm-serve-dev-inference"], "AWS::CloudWatch::CompositeAlarm")  # with the endpoint
    assert any("Availability SLO 99.5 %" in c["AlarmDescription"] for c in composites)


def test_distributed_pretraining_is_slurm_with_fsx_and_deep_health_checks(templates):
    stacks = templates["distributed-pretraining"]
    (cluster,) = _resources(stacks["pretrain-dev-training"], "AWS::SageMaker::Cluster")
    groups = {g["InstanceGroupName"]: g for g in cluster["InstanceGroups"]}
    assert groups["gpu"]["OnStartDeepHealthChecks"] == ["InstanceStress", "InstanceConnectivity"]
    assert groups["gpu"]["InstanceType"] == "ml.g5.48xlarge" and groups["gpu"]["InstanceCount"] == 2
    assert cluster["NodeRecovery"] == "Automatic"
    (fsx,) = _resources(stacks["pretrain-dev-training"], "AWS::FSx::FileSystem")
    assert fsx["StorageCapacity"] == 2400 and fsx["LustreConfiguration"]["PerUnitStorageThroughput"] == 250
    dashboards = [d["DashboardName"] for d in _resources(stacks["pretrain-dev-observability"], "AWS::CloudWatch::Dashboard")]
    assert "pretrain-dev-pretrain-cluster" in dashboards


def test_hyperpod_eks_creates_the_eks_cluster_its_dependencies_and_nodes_that_join_it(templates):
    """SageMaker Developer Guide, "Getting started with Amazon EKS support in SageMaker HyperPod" and
    "Installing packages on the Amazon EKS cluster using Helm": API authentication, the add-ons (cert-manager
    among them) then the hyperpod-dependencies chart, all before the HyperPod cluster that the EKS cluster
    orchestrates."""
    stack = templates["hyperpod-eks"]["hpeks-dev-training"]
    (eks_id,) = [k for k, r in stack["Resources"].items() if r["Type"] == "AWS::EKS::Cluster"]
    eks = stack["Resources"][eks_id]["Properties"]
    assert (eks["Name"], eks["Version"], eks["AccessConfig"]["AuthenticationMode"]) == ("hpeks-dev-train", "1.33", "API")
    assert (eks["ResourcesVpcConfig"]["EndpointPublicAccess"], len(eks["ResourcesVpcConfig"]["SubnetIds"])) == (False, 2)
    addons = {r["Properties"]["AddonName"]: k for k, r in stack["Resources"].items() if r["Type"] == "AWS::EKS::Addon"}
    assert sorted(addons) == ["aws-fsx-csi-driver", "cert-manager", "coredns", "eks-pod-identity-agent", "kube-proxy",
                              "vpc-cni"]
    charts = {r["Properties"]["Release"]: (k, r) for k, r in stack["Resources"].items()
              if r["Type"] == "Custom::AWSCDK-EKS-HelmChart"}
    assert sorted(charts) == ["hyperpod-dependencies"]
    assert addons["cert-manager"] in charts["hyperpod-dependencies"][1]["DependsOn"]
    (hp_id,) = [k for k, r in stack["Resources"].items() if r["Type"] == "AWS::SageMaker::Cluster"]
    cluster = stack["Resources"][hp_id]
    assert cluster["Properties"]["Orchestrator"] == {"Eks": {"ClusterArn": {"Fn::GetAtt": [eks_id, "Arn"]}}}
    assert {addons["cert-manager"], charts["hyperpod-dependencies"][0]} <= set(cluster["DependsOn"])
    groups = {g["InstanceGroupName"]: g for g in cluster["Properties"]["InstanceGroups"]}
    assert groups["gpu"]["OnStartDeepHealthChecks"] == ["InstanceStress", "InstanceConnectivity"]
    (manifest,) = _resources(stack, "Custom::AWSCDK-EKS-KubernetesResource")
    assert '\\"name\\":\\"fsx-claim\\",\\"namespace\\":\\"kubeflow\\"' in json.dumps(manifest["Manifest"]).replace(" ", "")


def test_async_batch_scoring_scales_from_zero_on_backlog(templates):
    stacks = templates["async-batch-scoring"]
    (target,) = _resources(stacks["batch-dev-inference"], "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (0, 8)
    policies = _resources(stacks["batch-dev-inference"], "AWS::ApplicationAutoScaling::ScalingPolicy")
    tracking = [p["TargetTrackingScalingPolicyConfiguration"] for p in policies if "TargetTrackingScalingPolicyConfiguration" in p]
    assert [t["CustomizedMetricSpecification"]["MetricName"] for t in tracking] == ["ApproximateBacklogSizePerInstance"]
    assert tracking[0]["TargetValue"] == 10


def test_serverless_embeddings_has_provisioned_concurrency_and_no_instances(templates):
    stacks = templates["serverless-embeddings"]
    (config,) = _resources(stacks["embed-dev-inference"], "AWS::SageMaker::EndpointConfig")
    variant = config["ProductionVariants"][0]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 50, "ProvisionedConcurrency": 2}
    assert "InstanceType" not in variant


def test_byo_app_builds_its_own_stack_on_the_library(templates):
    (body,) = [b for k, b in templates["byo-app"].items() if k != "__files__"]
    (endpoint,) = _resources(body, "AWS::SageMaker::Endpoint")
    assert endpoint["EndpointName"] == "search-recommender"
    (budget,) = _resources(body, "AWS::Budgets::Budget")
    assert budget["Budget"]["BudgetLimit"] == {"Amount": 2500, "Unit": "USD"}
    assert budget["Budget"]["FilterExpression"] == {"Tags": {"Key": "team", "Values": ["search"], "MatchOptions": ["EQUALS"]}}
