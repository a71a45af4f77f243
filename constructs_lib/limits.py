"""SageMaker limits enforced at synth, defined once and shared by the constructs and the config schema
(and the one Lambda quota the glue's functions are checked against).

Sources: botocore's SageMaker service model (the pinned ``botocore`` in requirements.txt) for the
instance-type enums, the SageMaker API reference for the limits listed in ``REFERENCE.md`` (names,
counts, serverless sizes, timeouts), and the Lambda Developer Guide's "Lambda quotas".
"""

from __future__ import annotations

import re
from functools import cache

from . import sagemaker_events as _events

# Names of endpoints, endpoint configs, variants, clusters, instance groups, components: the pattern the
# handlers check too, defined in the module every function asset carries.
NAME_PATTERN = _events.NAME_PATTERN
NAME_RULE = "1-63 letters, digits and hyphens, starting and ending with a letter or digit"
# Container images (ECR, by tag or digest) and S3 locations of models.
ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repo>[a-z0-9][a-z0-9._/-]*)(?::[\w.-]+|@sha256:[a-f0-9]{64})$"
)
ECR_IMAGE_RULE = "an ECR image URI account.dkr.ecr.region.amazonaws.com/repo:tag (or @sha256:digest)"
S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<key>.*))?$")
S3_URI_RULE = "an s3://bucket/key URI (bucket: 3-63 lower-case letters, digits, dots, hyphens)"
# SSM parameter names (botocore ssm PutParameterRequest.Name): letters, digits, _.- and / between
# levels, at most 15 levels, not starting with "aws" or "ssm", at most 1011 characters counting the ARN
# before the name. The platform uses hierarchical names (leading /), whose ARN is "...:parameter" + name.
SSM_PARAMETER_NAME = re.compile(r"^(?!/(?:aws|ssm))(?:/[a-zA-Z0-9_.-]+){1,15}$", re.IGNORECASE)
SSM_PARAMETER_NAME_MAX = 900  # leaves room for the longest ARN prefix within SSM's 1011
SSM_PARAMETER_NAME_RULE = (
    f"an SSM parameter name /level/.../name: 1-15 levels of letters, digits, '_', '.', '-', at most "
    f"{SSM_PARAMETER_NAME_MAX} characters, not starting with /aws or /ssm"
)


def is_ssm_parameter_name(name: str) -> bool:
    """Whether ``name`` is a parameter name the platform may use (``SSM_PARAMETER_NAME_RULE``)."""
    return bool(SSM_PARAMETER_NAME.match(name)) and len(name) <= SSM_PARAMETER_NAME_MAX


# "Function environment variables: 4 KB, for all environment variables associated with the function,
# in aggregate" (Lambda Developer Guide, "Lambda quotas"): names and values; a deploy fails above it.
# Measured with ``constructs_lib.lifecycle.reliable_function.environment_size``.
LAMBDA_ENVIRONMENT_MAX_BYTES = 4096

MAX_PRODUCTION_VARIANTS = 10
# AutoRollbackConfig.Alarms of a deployment: 1-10 (botocore sagemaker AlarmList)
MAX_ROLLBACK_ALARMS = 10
SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)
SERVERLESS_MAX_CONCURRENCY = (1, 200)
VARIANT_VOLUME_GB = (1, 512)
VARIANT_TIMEOUT_S = (60, 3600)
ASYNC_MAX_CONCURRENT_INVOCATIONS = (1, 1000)
S3_PATH_MAX_LEN = 512
SAMPLING_PERCENT = (0, 100)
MAX_ENVIRONMENT_VARIABLES = 100  # botocore shape EnvironmentMap
MAX_FALLBACK_INSTANCE_TYPES = 4  # InstancePools: 1-5 pools, the first is instance_type
PROVISION_TIMEOUT_S = (300, 3600)  # VariantInstanceProvisionTimeoutInSeconds
MAX_SECURITY_GROUPS = 5
MAX_SUBNETS = 16
COOLDOWN_S = (0, 3600)  # the platform's bound on scale-in/out cooldowns
MIN_COMPONENT_MEMORY_MB = 128
MIN_COMPONENT_CPU_CORES = 0.25
# Deployment guardrails (DeploymentConfig): canary size, linear step / rolling batch, bake and
# termination waits, MaximumExecutionTimeoutInSeconds (600-28800 s).
CANARY_PERCENT = (1, 50)
STEP_PERCENT = (10, 50)
DEPLOYMENT_WAIT_MINUTES = (0, 60)
DEPLOYMENT_MAX_EXECUTION_MINUTES = (10, 480)
# Evaluation periods of the per-minute rollback alarms (the platform's bound).
ALARM_EVALUATION_PERIODS = (1, 60)

# Instance families whose hosts carry local NVMe instance storage, encrypted in hardware (list from
# "Host instance storage volumes" in the SageMaker developer guide and the EC2 instance-store table).
# Training jobs refuse a VolumeKmsKeyId on them (below). Endpoint configs no longer do: the current
# CreateEndpointConfig reference (botocore 1.44, CreateEndpointConfigInput.KmsKeyId) says the key only
# "does not encrypt instance local storage", so endpoints set it on every type. Keep this the only copy.
LOCAL_NVME_FAMILIES = frozenset(
    {
        "c5d", "c6id", "c6gd", "c7gd", "m5d", "m6id", "m6gd", "m7gd", "r5d", "r6id", "r6gd", "r7gd",
        "g4dn", "g5", "g6", "g6e", "gr6", "g7e", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en",
        "p6-b200", "p6e-gb200", "trn1", "trn1n", "trn2",
    }
)

# Instance families with GPUs/accelerators (serverless refuses them; dashboards add GPU widgets).
ACCELERATED_FAMILY_PREFIXES = ("g", "p", "inf", "trn", "dl")


def instance_family(instance_type: str) -> str:
    """``ml.g5.2xlarge`` -> ``g5``; ``ml.p6e-gb200.36xlarge`` -> ``p6e-gb200``."""
    parts = instance_type.split(".")
    return parts[1] if len(parts) >= 3 else ""


# Training instance families whose local instance storage refuses ``ResourceConfig.VolumeKmsKeyId``
# (API reference ResourceConfig: "You can't request a VolumeKmsKeyId when using an instance type with
# local storage"). The SageMaker Python SDK strips the key for every family with a "d" and for g5, g6,
# p5 and trn1 (``common_utils.volume_size_supported`` / ``instance_supports_kms``); the families with
# local NVMe above are added.
TRAINING_NO_VOLUME_KEY_PREFIXES = ("g5", "g6", "p5", "trn1")


def training_volume_key_allowed(instance_type: str) -> bool:
    """False when CreateTrainingJob refuses a ``VolumeKmsKeyId`` for ``instance_type`` (local storage)."""
    family = instance_family(instance_type)
    return not (
        "d" in family or family.startswith(TRAINING_NO_VOLUME_KEY_PREFIXES) or family in LOCAL_NVME_FAMILIES
    )


def is_accelerated(instance_type: str) -> bool:
    return instance_family(instance_type).startswith(ACCELERATED_FAMILY_PREFIXES)


def has_nvidia_gpus(instance_type: str) -> bool:
    """``ml.g5.2xlarge``, ``ml.gr6.4xlarge``, ``ml.p5.48xlarge``: the G and P families of SageMaker's training
    and HyperPod instance types (botocore enums TrainingInstanceType, ClusterInstanceType: g4dn-g7e, gr6,
    p2-p6e) carry NVIDIA GPUs (EC2 accelerated computing specifications; Gr6 has NVIDIA L4 like G6);
    Trainium ``trn``, Inferentia ``inf`` and CPU families do not. The one test of "has NVIDIA GPUs"."""
    return instance_family(instance_type)[:1] in ("g", "p")


def is_burstable(instance_type: str) -> bool:
    """``ml.t2``/``ml.t3`` hosts: Application Auto Scaling refuses them."""
    return instance_family(instance_type).startswith("t")


@cache
def _enum(shape: str) -> frozenset[str]:
    # Reads botocore's bundled JSON model from disk: no network, no credentials.
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    return frozenset(model.shape_for(shape).enum)


def endpoint_instance_types() -> frozenset[str]:
    """botocore enum ``ProductionVariantInstanceType``."""
    return _enum("ProductionVariantInstanceType")


def cluster_instance_types() -> frozenset[str]:
    """botocore enum ``ClusterInstanceType`` (HyperPod)."""
    return _enum("ClusterInstanceType")


def describe_choices(values: frozenset[str] | tuple, example_count: int = 6) -> str:
    ordered = sorted(values)
    if len(ordered) <= example_count:
        return "one of " + ", ".join(map(str, ordered))
    return f"one of {len(ordered)} values, e.g. " + ", ".join(ordered[:example_count])
