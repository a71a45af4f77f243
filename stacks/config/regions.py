"""Images and data in the deployment region.

``CreateModel`` needs the container image and the model data in the model's region (SageMaker API
reference, ``ContainerDefinition.Image`` and ``ModelDataUrl``); so do model package versions and
training jobs. What a config can tell about regions:

* ECR image URIs name their region: ``<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>``. Those
  are checked: with ``platform.region`` every image must be in it; without it, all images must share
  one region, and the stacks that use them carry a CloudFormation rule that stops a deploy in any
  other region before anything is created (``stacks.platform``).
* ``s3://bucket/key`` URIs (model data, FSx data repositories) carry no region: a bucket's region is
  only known to S3 (``GetBucketLocation``), which synth never calls. They are not checked; keep the
  buckets in the deployment region.
* The training image lives in the platform's own ECR repository and the HyperPod lifecycle scripts in
  the platform's artifact bucket: both are created in the deployment region by construction.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from constructs_lib.errors import Problem, Problems

from .endpoints import component_sections, entry_model, shadow_variant_sections, variant_sections

if TYPE_CHECKING:
    from . import PlatformConfig

ECR_IMAGE = re.compile(r"^\d{12}\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/")

# Stack concern -> the images it uses (models it creates, versions it registers).
INFERENCE, LIFECYCLE, TRAINING = "inference", "lifecycle", "training"


def ecr_region(uri: str | None) -> str | None:
    """The region of an ECR image URI, or None for anything else."""
    match = ECR_IMAGE.match(uri or "")
    return match.group("region") if match else None


def images(config: PlatformConfig) -> dict[str, dict[str, tuple[str, str]]]:
    """ECR images of the config by stack concern: ``{concern: {key path: (region, image)}}``."""
    found: dict[str, dict[str, tuple[str, str]]] = {INFERENCE: {}, LIFECYCLE: {}, TRAINING: {}}

    def add(concern: str, where: str, uri: str | None) -> None:
        region = ecr_region(uri)
        if region is not None and uri is not None:
            found[concern][where] = (region, uri)

    for i, endpoint in enumerate(config.endpoints):
        where = f"endpoints[{i}]"
        model = entry_model(endpoint)
        if model is not None:
            add(INFERENCE, f"{where}.model.image", model.image)
        for group, entries in (
            ("variants", variant_sections(endpoint)), ("shadow_variants", shadow_variant_sections(endpoint)),
            ("components", component_sections(endpoint)),
        ):
            for j, entry in enumerate(entries):
                add(INFERENCE, f"{where}.{group}[{j}].model.image", entry.model.image)
    registration = config.lifecycle.register_models_from_training
    if registration is not None:
        add(LIFECYCLE, "lifecycle.register_models_from_training.inference_image", registration.inference_image)
    for i, pipeline in enumerate(config.training_pipelines):
        add(TRAINING, f"training_pipelines[{i}].inference_image", pipeline.inference_image)
    return found


def images_region(config: PlatformConfig, concern: str) -> str | None:
    """The one region the images of a stack need (the config refuses several), or None without images."""
    regions = sorted({region for region, _ in images(config)[concern].values()})
    return regions[0] if regions else None


def region_problems(config: PlatformConfig) -> list[Problem]:
    """Images outside ``platform.region``; without it, images in more than one region."""
    problems = Problems("config")
    found = {where: image for per_stack in images(config).values() for where, image in per_stack.items()}
    target = config.platform.region
    if target is not None:
        for where, (region, uri) in found.items():
            problems.check(
                region == target, where, uri,
                f"an image in platform.region {target} (SageMaker needs images in the region of the model; "
                "copy the image to an ECR repository there)",
            )
    elif found:
        first_where, (first_region, _) = next(iter(found.items()))
        for where, (region, uri) in found.items():
            problems.check(
                region == first_region, where, uri,
                f"an image in {first_region}, the region of {first_where}: templates without platform.region deploy "
                "to one region, and SageMaker needs every image in the region of its model",
            )
    return problems.items


__all__ = ["ecr_region", "images", "images_region", "region_problems"]
