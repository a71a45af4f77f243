"""Each config section converts itself to the library's spec (``to_spec``): config keys (``min``,
``metric``, ``capture``, ``count``, ``max_runtime_hours``) become the spec's own fields (``min_capacity``,
``metric_name``, ``capture_input``, ``instance_count``, ``max_runtime``), and ``endpoint_props`` only
combines the endpoint sections' specs. The training entries give the constructs' keyword arguments as
typed dicts (``TrainingPipelineOptions``, ``LustreStorageOptions``, ``HyperPodClusterOptions``) that
mirror the constructors' signatures; so do the budgets' (``SpendBudgetOptions``). No synth."""

from __future__ import annotations

import inspect
from typing import get_type_hints

import pytest

from constructs_lib.cost import BudgetAlert, SpendBudget, SpendBudgetOptions
from constructs_lib.cost.budget import AlertKind
from constructs_lib.inference import (
    AsyncInferenceSpec,
    AutoScalingSpec,
    ComponentAutoScalingSpec,
    ComponentSpec,
    DataCaptureSpec,
    DeploymentSpec,
    DeploymentStrategy,
    EndpointKind,
    ManagedInstanceScalingSpec,
    MetricTargetSpec,
    ModelSpec,
    RoutingStrategy,
    ScheduledScalingSpec,
    ShadowVariantSpec,
    VariantSpec,
)
from constructs_lib.lifecycle import HyperPodClusterRef, ModelRegistration, ScaleToZero, WatchedEndpoint
from constructs_lib.observability import NodeHealthMonitoring, ServiceLevelObjective, SeverityThresholds
from constructs_lib.observability.training_monitoring import TrainingMonitoringSpec
from constructs_lib.training import (
    DataChannel,
    DataDistribution,
    DataParallel,
    DataRepository,
    Distribution,
    DistributionConfig,
    EksOrchestration,
    EntryPoint,
    HyperPodCluster,
    HyperPodClusterOptions,
    InputMode,
    InstanceGroup,
    LustreDeploymentType,
    LustreStorage,
    LustreStorageOptions,
    MetricDefinition,
    ModelParallel,
    NodeMonitoring,
    NodeProvisioningMode,
    NodeRecovery,
    SlurmNodeType,
    SlurmOrchestration,
    TrainingPipeline,
    TrainingPipelineOptions,
)
from constructs_lib.training.eks import (
    EksAddon,
    HyperPodDependenciesChart,
    HyperPodEksCluster,
    HyperPodEksClusterOptions,
    HyperPodEksDependencies,
    HyperPodEksDependenciesOptions,
)
from constructs_lib.training.eks_observability import (
    HyperPodObservabilityAddon,
    HyperPodObservabilityAddonOptions,
)
from stacks.config import budgets as bu_config
from stacks.config import eks as eks_config
from stacks.config import endpoints as ep_config
from stacks.config import lifecycle as lc_config
from stacks.config import training as tr_config
from stacks.config.platform import PlatformSection
from stacks.naming import PlatformNames

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ranker:1"
MODEL = {"image": IMAGE, "model_data_url": "s3://models/ranker.tar.gz"}


def test_sections_convert_to_specs_in_the_specs_own_field_names():
    schedule = {"name": "night", "schedule": "cron(0 20 * * ? *)", "time_zone": "Europe/Berlin", "min": 1, "max": 2}
    scaling = ep_config.AutoscalingSection.model_validate({
        "min": 1, "max": 4, "target_invocations_per_instance": 100,
        "metric_targets": [{"metric": "GPUUtilization", "target": 70}], "schedules": [schedule],
    })
    assert scaling.to_spec() == AutoScalingSpec(
        min_capacity=1, max_capacity=4, target_invocations_per_instance=100,
        metric_targets=(MetricTargetSpec(metric_name="GPUUtilization", target_value=70),),
        schedules=(ScheduledScalingSpec(name="night", schedule="cron(0 20 * * ? *)", time_zone="Europe/Berlin",
                                        min_capacity=1, max_capacity=2),),
    )
    assert ep_config.DeploymentSection.model_validate({"strategy": "linear", "rollback_signals": []}).to_spec() == (
        DeploymentSpec(strategy=DeploymentStrategy.LINEAR, rollback_signals=())
    )
    assert ep_config.DeploymentSection().to_spec() == DeploymentSpec(strategy=DeploymentStrategy.CANARY)
    assert ep_config.DataCaptureSection.model_validate({"sampling_percent": 20, "capture": ["input"]}).to_spec() == (
        DataCaptureSpec(sampling_percent=20, capture_input=True, capture_output=False)
    )
    assert ep_config.AsyncInferenceSection(max_concurrent_invocations_per_instance=4).to_spec() == (
        AsyncInferenceSpec(max_concurrent_invocations_per_instance=4)
    )
    assert ep_config.ManagedScalingSection(min=0, max=3).to_spec() == ManagedInstanceScalingSpec(min_instances=0, max_instances=3)
    assert ep_config.SloSection(availability_percent=99.9).to_spec() == ServiceLevelObjective(availability_percent=99.9)
    component = ep_config.ComponentSection.model_validate({
        "name": "llama-8b", "model": {"image": IMAGE}, "memory_mb": 4096, "copies": 1,
        "autoscaling": {"min_copies": 0, "max_copies": 2, "target_invocations_per_copy": 5, "schedules": [schedule]},
    })
    assert component.to_spec("acme-ml-dev-llm") == ComponentSpec(
        name="acme-ml-dev-llm-llama-8b", model=ModelSpec(image=IMAGE), memory_mb=4096, copies=1,
        autoscaling=ComponentAutoScalingSpec(
            min_copies=0, max_copies=2, target_invocations_per_copy=5,
            schedules=(ScheduledScalingSpec(name="night", schedule="cron(0 20 * * ? *)", time_zone="Europe/Berlin",
                                            min_capacity=1, max_capacity=2),),
        ),
    )


def test_endpoint_props_combine_the_sections_specs():
    entry = ep_config.ENDPOINT_ADAPTER.validate_python({
        "name": "ranker", "routing": "LEAST_OUTSTANDING_REQUESTS",
        "variants": [{"name": "current", "model": MODEL, "instance_type": "ml.c5.xlarge", "instance_count": 2}],
        "shadow_variants": [{"name": "shadow", "model": MODEL, "instance_type": "ml.c5.xlarge", "sampling_percent": 10}],
        "deployment": {}, "data_capture": {"sampling_percent": 5},
    })
    props = ep_config.endpoint_props("acme-ml-dev", entry)
    model = ModelSpec(image=IMAGE, model_data_url="s3://models/ranker.tar.gz")
    assert (props["endpoint_name"], props["kind"]) == ("acme-ml-dev-ranker", EndpointKind.REALTIME)
    assert props["variants"] == [VariantSpec(name="current", model=model, instance_type="ml.c5.xlarge", instance_count=2)]
    assert props["shadow_variants"] == [
        ShadowVariantSpec(name="shadow", model=model, instance_type="ml.c5.xlarge", sampling_percent=10)
    ]
    assert (props["deployment"], props["data_capture"], props["autoscaling"], props["components"]) == (
        DeploymentSpec(), DataCaptureSpec(sampling_percent=5), None, [],
    )
    shorthand = ep_config.ENDPOINT_ADAPTER.validate_python({
        "name": "llm", "type": "inference-components", "instance_type": "ml.g5.2xlarge", "routing": "RANDOM",
        "autoscaling": {"min": 1, "max": 2},
        "components": [{"name": "a", "model": {"image": IMAGE}, "memory_mb": 1024}],
    })
    props = ep_config.endpoint_props("acme-ml-dev", shorthand)
    assert props["variants"] == [VariantSpec(
        model=None, instance_type="ml.g5.2xlarge", routing=RoutingStrategy.RANDOM,
        managed_scaling=ManagedInstanceScalingSpec(min_instances=1, max_instances=2),
    )]
    assert props["autoscaling"] is None  # the entry's autoscaling is the variant's managed instance scaling
    assert [c.name for c in props["components"]] == ["acme-ml-dev-llm-a"]


# -- training ---------------------------------------------------------------------------------------
EKS_ARN = "arn:aws:eks:us-east-1:123456789012:cluster/ml"
PLAN = "arn:aws:sagemaker:us-east-1:123456789012:training-plan/p5-plan"


def test_training_sub_sections_convert_to_specs_in_the_specs_own_field_names():
    controller = tr_config.InstanceGroupSection.model_validate({
        "name": "controller", "role": "controller", "instance_type": "ml.m5.xlarge", "count": 1,
        "threads_per_core": 1, "deep_health_checks": ["InstanceStress"], "ebs_volume_gb": 500,
        "training_plan_arn": PLAN,
    })
    assert controller.to_spec(slurm=True) == InstanceGroup(
        name="controller", instance_type="ml.m5.xlarge", instance_count=1, slurm_node_type=SlurmNodeType.CONTROLLER,
        threads_per_core=1, ebs_volume_size_gb=500, deep_health_checks=("InstanceStress",), training_plan_arn=PLAN,
    )
    workers = tr_config.InstanceGroupSection(name="workers", instance_type="ml.p5.48xlarge", count=4)
    assert workers.to_spec(slurm=True).slurm_node_type is SlurmNodeType.COMPUTE
    # EKS groups have no Slurm role; a controller there keeps its role for the construct's rule to refuse.
    assert workers.to_spec(slurm=False).slurm_node_type is None
    assert controller.to_spec(slurm=False).slurm_node_type is SlurmNodeType.CONTROLLER
    monitoring = tr_config.ClusterMonitoringSection(idle_gpu_floor_percent=25, dcgm=True, idle_gpu_hours_per_hour=2)
    assert monitoring.to_spec() == NodeMonitoring(idle_gpu_floor_percent=25, dcgm=True)
    assert monitoring.health_spec(gpu_instance_groups=["workers"], slurm=True) == NodeHealthMonitoring(
        gpu_instance_groups=("workers",), idle_gpu_floor_percent=25, dcgm=True, slurm=True, idle_gpu_hours_per_hour=2)
    assert tr_config.ClusterMonitoringSection(idle_gpu_hours_per_hour=None).health_spec(
        gpu_instance_groups=(), slurm=False).idle_gpu_hours_per_hour is None
    assert tr_config.ManagedSpotSection(max_wait_hours=48).to_spec().max_wait.to_hours() == 48
    assert tr_config.DistributionSection.model_validate({
        "kind": "torch_distributed", "data_parallel": "smddp", "model_parallel": {"hybrid_shard_degree": 8},
    }).to_spec() == DistributionConfig(
        kind=Distribution.TORCH_DISTRIBUTED, data_parallel=DataParallel.SMDDP,
        model_parallel=ModelParallel(parameters={"hybrid_shard_degree": 8}),
    )
    assert tr_config.DistributionSection(kind="mpi", processes_per_host=8).to_spec() == (
        DistributionConfig(kind=Distribution.MPI, processes_per_host=8)
    )
    assert tr_config.EntryPointSection(script="train.py", source_prefix="code/sft/").to_spec() == (
        EntryPoint(script="train.py", source_prefix="code/sft/")
    )
    assert tr_config.ChannelSection.model_validate({
        "name": "train", "s3_prefix": "datasets/llm/", "distribution": "ShardedByS3Key", "input_mode": "FastFile",
    }).to_spec() == DataChannel(name="train", s3_prefix="datasets/llm/",
                                distribution=DataDistribution.SHARDED_BY_S3_KEY, input_mode=InputMode.FAST_FILE)
    assert tr_config.ChannelSection(name="val", s3_prefix="datasets/val/").to_spec() == (
        DataChannel(name="val", s3_prefix="datasets/val/", distribution=DataDistribution.FULLY_REPLICATED, input_mode=None)
    )
    assert tr_config.MetricDefinitionSection(name="train_loss", regex="loss=([0-9.]+)").to_spec() == (
        MetricDefinition(name="train_loss", regex="loss=([0-9.]+)")
    )
    assert tr_config.TrainingMonitoringSection(
        progress_metric="train_loss", stall_minutes=20, gpu_utilization_floor_percent=None, gpu_underuse_minutes=15,
        disk_utilization_warning_percent=70, disk_utilization_critical_percent=None,
    ).to_spec() == TrainingMonitoringSpec(
        progress_metric="train_loss", stall_minutes=20, gpu_utilization_floor_percent=None, gpu_underuse_minutes=15,
        disk_percent=SeverityThresholds(warning=70, critical=None),
    )


def test_fsx_lustre_gives_lustre_storages_keywords_with_each_import_paths_bucket():
    buckets: dict[str, object] = {}
    fsx = tr_config.FsxLustreSection.model_validate({
        "storage_gib": 2400, "throughput_mbps_per_tib": 100, "deployment_type": "PERSISTENT_1",
        "data_repositories": [{"import_path": "s3://datasets/c4/en", "file_system_path": "/c4"},
                              {"import_path": "s3://datasets"}],
    })
    options = fsx.to_spec(bucket=lambda name: buckets.setdefault(name, object()))
    assert list(buckets) == ["datasets"]
    assert options == LustreStorageOptions(
        storage_capacity_gib=2400, deployment_type=LustreDeploymentType.PERSISTENT_1, per_unit_storage_throughput=100,
        data_repositories=[DataRepository(bucket=buckets["datasets"], prefix="c4/en", file_system_path="/c4"),
                           DataRepository(bucket=buckets["datasets"], prefix="", file_system_path="/datasets")],
    )
    assert options["deployment_type"] is LustreDeploymentType.PERSISTENT_1
    default = tr_config.FsxLustreSection().to_spec(bucket=lambda name: pytest.fail(name))
    assert default == LustreStorageOptions(storage_capacity_gib=1200, deployment_type=LustreDeploymentType.PERSISTENT_2,
                                           per_unit_storage_throughput=None, data_repositories=[])


PIPELINE = {
    "name": "llm-sft", "image_tag": "sft-1.0", "instance_type": "ml.p4d.24xlarge", "instance_count": 2,
    "distribution": "torch_distributed", "entry_point": {"script": "train.py", "source_prefix": "code/sft/"},
    "channels": [{"name": "train", "s3_prefix": "datasets/sft/"}], "hyperparameters": {"epochs": "3"},
    "volume_size_gb": 200, "max_runtime_hours": 3, "managed_spot": {"max_wait_hours": 6},
    "model_package_group": "llm-sft", "inference_image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:1",
    "schedule": "cron(0 2 ? * SUN *)", "metric_definitions": [{"name": "train_loss", "regex": "loss=([0-9.]+)"}],
}


def test_pipeline_entry_gives_training_pipelines_keywords_in_its_own_names():
    options = tr_config.TrainingPipelineSection.model_validate(PIPELINE).to_spec()
    assert set(options) == set(get_type_hints(TrainingPipelineOptions))  # every option the entry can set
    durations = {k: options.pop(k) for k in ("max_runtime", "volume_size", "managed_spot", "schedule")}
    assert durations["max_runtime"].to_hours() == 3
    assert durations["volume_size"].to_gibibytes() == 200
    assert durations["managed_spot"].max_wait.to_hours() == 6
    assert durations["schedule"].expression_string == "cron(0 2 ? * SUN *)"
    assert options == TrainingPipelineOptions(
        pipeline_name="llm-sft", image_tag="sft-1.0", instance_type="ml.p4d.24xlarge", instance_count=2,
        distribution=Distribution.TORCH_DISTRIBUTED, entry_point=EntryPoint(script="train.py", source_prefix="code/sft/"),
        channels=[DataChannel(name="train", s3_prefix="datasets/sft/")], hyperparameters={"epochs": "3"},
        input_prefix=None, model_package_group="llm-sft", inference_image=PIPELINE["inference_image"],
        metric_definitions=[MetricDefinition(name="train_loss", regex="loss=([0-9.]+)")],
    )
    minimal = tr_config.TrainingPipelineSection(
        name="tiny", image_tag="v1", instance_type="ml.g5.xlarge", input_prefix="datasets/tiny/",
        distribution={"kind": "mpi"},
    ).to_spec()
    assert (minimal["max_runtime"].to_hours(), minimal["volume_size"].to_gibibytes()) == (24, 100)
    assert (minimal["distribution"], minimal["input_prefix"]) == (DistributionConfig(kind=Distribution.MPI), "datasets/tiny/")
    assert [minimal[k] for k in ("channels", "managed_spot", "schedule", "entry_point", "model_package_group")] == [None] * 5


def test_cluster_entry_gives_hyperpod_clusters_keywords_in_its_own_names():
    groups = [{"name": "controller", "role": "controller", "instance_type": "ml.m5.xlarge", "count": 1},
              {"name": "workers", "instance_type": "ml.p5.48xlarge", "count": 2}]
    slurm = tr_config.TrainingClusterSection.model_validate({
        "name": "pretrain", "node_recovery": "none", "node_provisioning_mode": "standard", "instance_groups": groups,
        "monitoring": {"dcgm": True},
    })
    assert slurm.to_spec(cluster_name="acme-ml-dev-pretrain") == HyperPodClusterOptions(
        cluster_name="acme-ml-dev-pretrain",
        instance_groups=[InstanceGroup(name="controller", instance_type="ml.m5.xlarge", instance_count=1,
                                       slurm_node_type=SlurmNodeType.CONTROLLER),
                         InstanceGroup(name="workers", instance_type="ml.p5.48xlarge", instance_count=2,
                                       slurm_node_type=SlurmNodeType.COMPUTE)],
        orchestration=SlurmOrchestration(), node_recovery=NodeRecovery.NONE,
        node_provisioning_mode=NodeProvisioningMode.STANDARD, node_monitoring=NodeMonitoring(dcgm=True),
    )
    eks = tr_config.TrainingClusterSection.model_validate({
        "name": "eks", "orchestrator": "eks", "eks_cluster_arn": EKS_ARN, "instance_groups": groups[1:],
        "eks": {"cluster_security_group_id": "sg-0123456789abcdef0"},
    })
    existing = EksOrchestration(cluster_arn=EKS_ARN, cluster_security_group_id="sg-0123456789abcdef0")
    spec = eks.to_spec(cluster_name="acme-ml-dev-eks")
    assert (spec["orchestration"], eks.orchestration_spec()) == (existing, existing)
    assert [g.slurm_node_type for g in spec["instance_groups"]] == [None]
    assert (spec["node_recovery"], spec["node_provisioning_mode"], spec["node_monitoring"]) == (
        NodeRecovery.AUTOMATIC, NodeProvisioningMode.CONTINUOUS, None)
    created = EksOrchestration(cluster_arn="arn:aws:eks:us-east-1:123456789012:cluster/created")
    assert eks.to_spec(cluster_name="x", orchestration=created)["orchestration"] is created



def test_eks_sections_give_the_eks_constructs_keywords():
    create = eks_config.EksCreateSection(version="1.32", admins=["arn:aws:iam::123456789012:role/Admin"],
                                         public_access_cidrs=["203.0.113.0/24"])
    assert create.to_spec() == HyperPodEksClusterOptions(
        version="1.32", admins=["arn:aws:iam::123456789012:role/Admin"], public_access_cidrs=["203.0.113.0/24"])
    assert eks_config.EksObservabilitySection(metric_levels={"cluster": "ADVANCED"}, scrape_interval_s=60,
                                              logging=True).to_spec() == HyperPodObservabilityAddonOptions(
        metric_levels={"cluster": "ADVANCED"}, scrape_interval_s=60, logging=True)
    created = eks_config.EksSection.model_validate({
        "create": {}, "addons": {"coredns": False, "cloudwatch_observability": True},
        "dependencies_chart_values": {"mlflow": {"enabled": False}},
    })
    # A created cluster's defaults, the FSx CSI driver with a file system, then the switches.
    assert created.to_spec(lustre=True) == HyperPodEksDependenciesOptions(
        addons=[EksAddon.VPC_CNI, EksAddon.KUBE_PROXY, EksAddon.POD_IDENTITY_AGENT, EksAddon.CERT_MANAGER,
                EksAddon.FSX_CSI_DRIVER, EksAddon.CLOUDWATCH_OBSERVABILITY],
        dependencies_chart=HyperPodDependenciesChart(values={"mlflow": {"enabled": False}}), installer=True,
    )
    existing = eks_config.EksSection(cluster_security_group_id="sg-0123456789abcdef0", dependencies_chart="charts/hp")
    assert existing.to_spec(lustre=False) == HyperPodEksDependenciesOptions(
        addons=[EksAddon.POD_IDENTITY_AGENT], dependencies_chart=HyperPodDependenciesChart(directory="charts/hp", values={}),
        installer=True,
    )
    bare = eks_config.EksSection(cluster_security_group_id="sg-0123456789abcdef0", dependencies_chart=False)
    assert (bare.to_spec(lustre=False)["dependencies_chart"], bare.to_spec(lustre=False)["installer"]) == (None, False)
    assert bare.to_spec(lustre=True)["installer"] is True  # the FSx PersistentVolume goes in through it
    assert bare.model_copy(update={"installer": False}).to_spec(lustre=True)["installer"] is False


@pytest.mark.parametrize(
    ("options", "construct", "deploy_time"),
    [
        (TrainingPipelineOptions, TrainingPipeline, {"platform", "notification_topic", "network", "platform_tag"}),
        (LustreStorageOptions, LustreStorage, {"network", "subnet", "data_compression", "encryption_key",
                                               "removal_policy", "automatic_backup_retention", "mount_point"}),
        (HyperPodClusterOptions, HyperPodCluster, {"network", "vpc_subnets", "shared_storage", "lifecycle_bucket",
                                                   "encryption_key", "ebs_encryption_key", "ecr_repositories",
                                                   "prometheus"}),
        (SpendBudgetOptions, SpendBudget, {"topic"}),
        (HyperPodEksClusterOptions, HyperPodEksCluster, {"cluster_name", "vpc", "subnets", "encryption_key",
                                                         "removal_policy"}),
        (HyperPodEksDependenciesOptions, HyperPodEksDependencies, {"cluster_name", "cluster_security_group_id", "vpc",
                                                                   "subnets", "addon_versions", "lustre_volumes",
                                                                   "volume_namespace"}),
        (HyperPodObservabilityAddonOptions, HyperPodObservabilityAddon, {"cluster_name", "cluster_arn", "workspace",
                                                                         "instance_types"}),
    ],
)
def test_options_mirror_the_constructors_keywords(options, construct, deploy_time):
    """Each typed dict holds the constructor's keywords but the deploy-time ones, with the constructor's
    types, and requires exactly the keywords the constructor requires: a new or retyped constructor
    keyword fails here until the dict follows."""
    parameters = {
        name: p for name, p in inspect.signature(construct.__init__).parameters.items() if p.kind is p.KEYWORD_ONLY
    }
    hints = get_type_hints(construct.__init__)
    assert set(get_type_hints(options)) == set(parameters) - deploy_time
    assert get_type_hints(options) == {name: hints[name] for name in get_type_hints(options)}
    assert options.__required_keys__ == {name for name, p in parameters.items() if p.default is p.empty} - deploy_time


# -- lifecycle and budgets --------------------------------------------------------------------------
CLUSTER_ARN = "arn:aws:sagemaker:us-east-1:123456789012:cluster/abcdef012345"


def test_lifecycle_sections_convert_to_specs_in_the_specs_own_field_names():
    registration = lc_config.ModelRegistrationSection(model_package_group="chat-llm-models", inference_image=IMAGE)
    assert registration.to_spec() == ModelRegistration(model_package_group="chat-llm-models", inference_image=IMAGE)
    assert lc_config.ModelRegistrationSection(model_package_group="llm").to_spec() == (
        ModelRegistration(model_package_group="llm", inference_image=None)
    )
    assert lc_config.AutoRepairSection(name="acme-ml-dev-pretrain", arn=CLUSTER_ARN).to_spec() == (
        HyperPodClusterRef(cluster_name="acme-ml-dev-pretrain", cluster_arn=CLUSTER_ARN)
    )


def test_endpoint_entries_give_the_idle_guards_targets_with_their_kind_and_components():
    hosting = ep_config.ENDPOINT_ADAPTER.validate_python({
        "name": "llm", "type": "inference-components", "instance_type": "ml.g5.12xlarge",
        "components": [{"name": "a", "model": {"image": IMAGE}, "memory_mb": 1024},
                       {"name": "b", "model": {"image": IMAGE}, "memory_mb": 1024}],
    })
    components = ("acme-ml-dev-llm-a", "acme-ml-dev-llm-b")
    assert hosting.watched_endpoint("acme-ml-dev-llm") == WatchedEndpoint(
        endpoint_name="acme-ml-dev-llm", kind=EndpointKind.INFERENCE_COMPONENTS, inference_components=components)
    assert hosting.scale_to_zero("acme-ml-dev-llm") == ScaleToZero(
        endpoint_name="acme-ml-dev-llm", kind=EndpointKind.INFERENCE_COMPONENTS, inference_components=components)
    batch = ep_config.ENDPOINT_ADAPTER.validate_python(
        {"name": "batch", "type": "async", "model": MODEL, "instance_type": "ml.g5.xlarge"})
    assert batch.scale_to_zero("acme-ml-dev-batch") == ScaleToZero(endpoint_name="acme-ml-dev-batch", kind=EndpointKind.ASYNC)
    ranker = ep_config.ENDPOINT_ADAPTER.validate_python({"name": "ranker", "model": MODEL, "instance_type": "ml.c5.xlarge"})
    assert ranker.watched_endpoint("acme-ml-dev-ranker") == WatchedEndpoint(
        endpoint_name="acme-ml-dev-ranker", kind=EndpointKind.REALTIME, inference_components=())


def test_budgets_give_spend_budgets_keywords_per_budget_with_the_alerts_in_order():
    budgets = bu_config.BudgetsSection.model_validate({
        "monthly_usd": 30000, "team_tag": "owner", "alerts": {"actual_percent": [50, 100], "forecast_percent": [90]},
        "teams": [{"name": "search/ranking", "monthly_usd": 4000, "endpoints": ["ranker"]}],
    })
    alerts = [BudgetAlert(AlertKind.ACTUAL, 50), BudgetAlert(AlertKind.ACTUAL, 100), BudgetAlert(AlertKind.FORECASTED, 90)]
    assert budgets.alerts.to_spec() == alerts
    platform = PlatformSection(name="acme-ml", environment="staging")
    assert budgets.to_spec(names=PlatformNames(platform="acme-ml", environment="staging"), platform=platform) == {
        "platform": SpendBudgetOptions(budget_name="acme-ml-staging-platform", monthly_usd=30000, alerts=alerts,
                                       tags={"platform": "acme-ml", "environment": "staging"}),
        "team-search/ranking": SpendBudgetOptions(budget_name="acme-ml-staging-team-search/ranking", monthly_usd=4000,
                                                  alerts=alerts, tags={"owner": "search/ranking", "environment": "staging"}),
    }
    teams_only = budgets.model_copy(update={"monthly_usd": None})
    assert list(teams_only.to_spec(names=PlatformNames(platform="acme-ml", environment="staging"), platform=platform)) == [
        "team-search/ranking"]
