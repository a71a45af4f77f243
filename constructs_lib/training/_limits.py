"""HyperPod and FSx for Lustre limits enforced at synth by the training constructs, defined once.

Sources: the ``AWS::SageMaker::Cluster``, ``AWS::FSx::FileSystem`` and
``AWS::FSx::DataRepositoryAssociation`` resource schemas bundled with the pinned cfn-lint, the
SageMaker API reference (CreateCluster) and the FSx for Lustre user guide (storage capacity and
throughput per deployment type). Instance types come from botocore via ``constructs_lib.limits``.
"""

from __future__ import annotations

import re

from constructs_lib.limits import NAME_PATTERN, _enum

# AWS::SageMaker::Cluster
INSTANCE_GROUPS = (1, 100)
INSTANCE_COUNT = (0, 6758)
THREADS_PER_CORE = (1, 2)
EBS_VOLUME_GB = (1, 16384)
SOURCE_S3_URI_MAX_LEN = 1024
ON_CREATE_LEN = (1, 128)
SLURM_CONTROLLER_COUNT = 1  # HyperPod Slurm runs one slurmctld node per cluster
TRAINING_PLAN_ARN_PATTERN = re.compile(r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:training-plan/.*$")
EKS_CLUSTER_ARN_PATTERN = re.compile(
    r"^arn:aws[a-z\-]*:eks:[a-z0-9\-]+:[0-9]{12}:cluster/[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$"
)
PARTITION_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")

# FSx for Lustre (SSD storage). Storage is 1200 GiB, 2400 GiB or any multiple of 2400 GiB.
LUSTRE_STORAGE_STEP_GIB = 2400
LUSTRE_STORAGE_SMALLEST_GIB = (1200, 2400)
LUSTRE_STORAGE_MAX_GIB = 2_400 * 2_000  # well above any quota; catches unit mistakes (TiB vs GiB)
PERSISTENT_2_THROUGHPUT = (125, 250, 500, 1000)  # MB/s per TiB
PERSISTENT_1_THROUGHPUT = (50, 100, 200)  # MB/s per TiB (SSD)
DATA_REPOSITORY_ASSOCIATIONS_MAX = 8
FILE_SYSTEM_PATH_PATTERN = re.compile(r"^/[^\u0000\u0085\u2028\u2029\r\n]{0,4095}$")
S3_URI_PATTERN = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$")

# SageMaker model package groups (AWS::SageMaker::ModelPackageGroup.ModelPackageGroupName, botocore
# EntityName): the pattern of every SageMaker name.
MODEL_PACKAGE_GROUP_NAME_PATTERN = NAME_PATTERN


def training_instance_types() -> frozenset[str]:
    """botocore enum ``TrainingInstanceType`` (SageMaker training jobs)."""
    return _enum("TrainingInstanceType")
