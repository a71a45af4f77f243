"""Fixtures for the training constructs (constructs_lib/training).

One session-scoped app holds everything expensive: a Slurm cluster (controller, login and two GPU
worker groups with deep health checks) with its network, FSx for Lustre storage and training
platform, and an EKS-orchestrated cluster, synthesized ONCE with every cdk-nag pack. The template
tests, the compliance tests and cfn-lint all read that one cloud assembly. Tests that need the synth
are in the xdist group ``training-synth`` so ``-n 2 --dist loadgroup`` runs them on one worker.
Helpers and constants live in ``training_testkit.py``.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import pytest
from training_testkit import (
    AZS,
    EKS_CLUSTER,
    EKS_CLUSTER_ARN,
    EKS_CLUSTER_SG,
    SLURM_CLUSTER,
    TrainingApp,
    new_app,
)


def _event_target(scope, key):
    """An SQS target with a dead-letter queue, as the Serverless nag pack expects of every rule target."""
    from aws_cdk import aws_events_targets as targets
    from aws_cdk import aws_sqs as sqs

    from constructs_lib.compliance import acknowledge

    dlq = sqs.Queue(
        scope,
        "EventsDeadLetters",
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
    )
    acknowledge(dlq, "This queue is the dead-letter queue itself.", "Serverless-SQSRedrivePolicy")
    queue = sqs.Queue(
        scope,
        "ClusterEvents",
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=5),
    )
    return targets.SqsQueue(queue, dead_letter_queue=dlq, retry_attempts=3)


@pytest.fixture(scope="session")
def training_app(tmp_path_factory) -> TrainingApp:
    from aws_cdk import Stack
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_s3 as s3

    from constructs_lib.compliance import acknowledge, add_compliance_checks
    from constructs_lib.observability import PrometheusWorkspace
    from constructs_lib.training import (
        ALL_DEEP_HEALTH_CHECKS,
        DEFAULT_INTERFACE_ENDPOINTS,
        EKS_INTERFACE_ENDPOINTS,
        DataRepository,
        EksOrchestration,
        HyperPodCluster,
        InstanceGroup,
        LustreStorage,
        NodeMonitoring,
        SlurmNodeType,
        TrainingNetwork,
        TrainingPlatform,
    )

    outdir = tmp_path_factory.mktemp("training-cdk-out")
    app = new_app(outdir)
    add_compliance_checks(app)

    slurm_stack = Stack(app, "TrainingSlurm")
    network = TrainingNetwork(slurm_stack, "Network", availability_zones=AZS)
    platform = TrainingPlatform(
        slurm_stack, "Platform", network=network, model_package_groups=["llm-pretrain", "llm-sft"]
    )
    datasets = s3.Bucket.from_bucket_name(slurm_stack, "Datasets", "aiplatform-datasets-example")
    storage = LustreStorage(
        slurm_stack,
        "Storage",
        network=network,
        storage_capacity_gib=2400,
        per_unit_storage_throughput=500,
        data_repositories=[DataRepository(bucket=datasets, prefix="c4/en", file_system_path="/datasets/c4")],
    )
    # observability.prometheus and node monitoring (tests/training/test_cluster_observability_options.py).
    prometheus = PrometheusWorkspace(
        slurm_stack, "Prometheus", alias="llm-pretrain-metrics", encryption_key=platform.encryption_key
    )
    slurm = HyperPodCluster(
        slurm_stack,
        "Cluster",
        cluster_name=SLURM_CLUSTER,
        prometheus=prometheus,
        node_monitoring=NodeMonitoring(idle_gpu_floor_percent=15, dcgm=True),
        network=network,
        shared_storage=storage,
        encryption_key=platform.encryption_key,
        ecr_repositories=[platform.repository],
        instance_groups=[
            InstanceGroup(
                name="controller",
                instance_type="ml.m5.xlarge",
                instance_count=1,
                slurm_node_type=SlurmNodeType.CONTROLLER,
            ),
            InstanceGroup(
                name="login",
                instance_type="ml.m5.xlarge",
                instance_count=1,
                slurm_node_type=SlurmNodeType.LOGIN,
            ),
            InstanceGroup(
                name="workers-p5",
                instance_type="ml.p5.48xlarge",
                instance_count=4,
                slurm_node_type=SlurmNodeType.COMPUTE,
                partition_name="p5",
                threads_per_core=1,
                ebs_volume_size_gb=500,
                deep_health_checks=ALL_DEEP_HEALTH_CHECKS,
            ),
            InstanceGroup(
                name="workers-g5",
                instance_type="ml.g5.8xlarge",
                instance_count=2,
                slurm_node_type=SlurmNodeType.COMPUTE,
                deep_health_checks=ALL_DEEP_HEALTH_CHECKS,
            ),
        ],
    )
    target = _event_target(slurm_stack, platform.encryption_key)
    slurm.on_state_change("StateChange", target=target)
    slurm.on_node_health_event("NodeHealth", target=target)
    operators = iam.Role(slurm_stack, "Operators", assumed_by=iam.AccountRootPrincipal())
    acknowledge(
        operators,
        "Test principal for the grant helpers: CDK grants land in the grantee's default policy.",
        "HIPAA.Security-IAMNoInlinePolicy",
        "NIST.800.53.R5-IAMNoInlinePolicy",
        "PCI.DSS.321-IAMNoInlinePolicy",
    )
    slurm.grant_node_management(operators)

    eks_stack = Stack(app, "TrainingEks")
    # Stands for the EKS cluster's VPC (the cluster itself is referenced by ARN).
    eks_network = TrainingNetwork(
        eks_stack, "Network", interface_endpoints=[*DEFAULT_INTERFACE_ENDPOINTS, *EKS_INTERFACE_ENDPOINTS]
    )
    eks = HyperPodCluster(
        eks_stack,
        "Cluster",
        cluster_name=EKS_CLUSTER,
        network=eks_network,
        orchestration=EksOrchestration(cluster_arn=EKS_CLUSTER_ARN, cluster_security_group_id=EKS_CLUSTER_SG),
        instance_groups=[
            InstanceGroup(
                name="gpu",
                instance_type="ml.g5.8xlarge",
                instance_count=2,
                deep_health_checks=ALL_DEEP_HEALTH_CHECKS,
            ),
            InstanceGroup(name="cpu", instance_type="ml.m5.2xlarge", instance_count=1),
        ],
    )

    app.synth()  # raises ValidationFailed on any unacknowledged nag finding
    stacks = {"slurm": slurm_stack, "eks": eks_stack}
    templates = {
        name: json.loads((outdir / f"{stack.artifact_id}.template.json").read_text())
        for name, stack in stacks.items()
    }
    return TrainingApp(outdir, stacks, templates, slurm, eks, network, storage, platform, operators)
