"""GPUs per SageMaker hosting instance, for thresholds on metrics summed over GPUs.

``GPUUtilization`` and ``GPUMemoryUtilization`` in ``/aws/sagemaker/Endpoints`` range 0-100 x the
number of GPUs (SageMaker developer guide), so a per-GPU threshold is multiplied by this count.
Source: Amazon EC2 accelerated computing instance specifications (GPU count per size). Unknown
types count as 1 GPU: the alarm then fires earlier rather than never.
"""

from __future__ import annotations

from ..limits import instance_family

_FAMILY_SIZES = {
    # family: {size: GPUs}; sizes not listed have 1 GPU
    "g4dn": {"12xlarge": 4},
    "g5": {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8},
    "g6": {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8},
    "g6e": {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8},
    "p2": {"8xlarge": 8, "16xlarge": 16},
    "p3": {"8xlarge": 4, "16xlarge": 8},
    "p3dn": {"24xlarge": 8},
    "p4d": {"24xlarge": 8},
    "p4de": {"24xlarge": 8},
    "p5": {"48xlarge": 8},
    "p5e": {"48xlarge": 8},
    "p5en": {"48xlarge": 8},
    "p6-b200": {"48xlarge": 8},
    "p6-b300": {"48xlarge": 8},
    "p6e-gb200": {"36xlarge": 4},
}


def gpus_per_instance(instance_type: str) -> int:
    """``ml.g5.12xlarge`` -> 4; unknown or single-GPU types -> 1."""
    size = instance_type.rsplit(".", 1)[-1]
    return _FAMILY_SIZES.get(instance_family(instance_type), {}).get(size, 1)
