"""One truth with CloudFormation for promoted models: which variants read their model from the promotion
parameters, what those parameters are called, and what promoted versions may be made of.

Read by the data stack (it creates the parameters with the config's values, before the inference stack
deploys), the inference stack (its models read them, and their role may pull and read what a promotion
may deploy) and the lifecycle stack (the promotion writes them; its model role allows the same sources).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from constructs_lib.inference import ModelSpec, PromotedModel
from constructs_lib.inference.specs import DEFAULT_VARIANT_NAME

from .config import PlatformConfig
from .config.endpoints import EndpointSection, entry_model, variant_sections
from .naming import PlatformNames

# Where trained models land in the artifact bucket; approved versions may load their data from there.
MODELS_PREFIX = "models/"


def models_of(ep: EndpointSection) -> dict[str, Any]:
    """The model sections of the endpoint's (non-shadow) variants by variant name."""
    if variant_sections(ep):
        return {v.name: v.model for v in variant_sections(ep)}
    model = entry_model(ep)
    return {DEFAULT_VARIANT_NAME: model} if model is not None else {}


def promotion_sources(config: PlatformConfig) -> tuple[list[str], list[str]]:
    """ECR images (by repository) and ``s3://`` model data prefixes approved versions may come from,
    besides the artifact bucket's ``models/``: the targets' current images and model data folders, the
    registration image and ``lifecycle.model_data_prefixes``. The deployed models' role (lifecycle) and,
    for promoted variants, the endpoint's own role (inference) allow exactly these."""
    lifecycle = config.lifecycle
    by_name = {ep.name: ep for ep in config.endpoints}
    images: set[str] = set()
    data_urls: set[str] = set(lifecycle.model_data_prefixes)
    for entry in lifecycle.auto_deploy_approved_models:
        ep = by_name[entry.endpoint]
        for model in models_of(ep).values():
            images.add(model.image)
            if model.model_data_url:  # new versions usually sit next to the current one
                data_urls.add(model.model_data_url.rsplit("/", 1)[0] + "/")
    registration = lifecycle.register_models_from_training
    if registration is not None and registration.inference_image:
        images.add(registration.inference_image)
    return sorted(images), sorted(data_urls)


def promoted_variants(config: PlatformConfig) -> dict[str, list[str]]:
    """Endpoint config name -> variants whose model reads the promotion parameters
    (``auto_deploy_approved_models[]`` with ``keep_promoted_version``; no ``variants`` = every variant)."""
    by_name = {ep.name: ep for ep in config.endpoints}
    chosen: dict[str, set[str]] = {}
    for entry in config.lifecycle.auto_deploy_approved_models:
        if entry.keep_promoted_version and entry.endpoint in by_name:
            names = models_of(by_name[entry.endpoint])
            chosen.setdefault(entry.endpoint, set()).update(entry.variants or names)
    return {endpoint: sorted(variants) for endpoint, variants in chosen.items()}


def promoted_models(config: PlatformConfig, ep: EndpointSection, models: dict[str, ModelSpec]) -> dict[str, ModelSpec]:
    """``models`` (variant name -> the entry's ``ModelSpec``) with ``promoted`` set on the promoted variants."""
    variants = promoted_variants(config).get(ep.name, [])
    if not variants:
        return models
    images, data_urls = promotion_sources(config)
    prefixes = (f"s3://{PlatformNames.of(config).artifact_bucket}/{MODELS_PREFIX}", *data_urls)
    return {
        name: dataclasses.replace(
            model,
            promoted=PromotedModel.under(
                PlatformNames.of(config).promotion_path(ep.name, name), model_data=model.model_data_url is not None,
                image_repositories=tuple(images), model_data_prefixes=prefixes,
            ),
        ) if name in variants else model
        for name, model in models.items()
    }


def with_promoted_models(config: PlatformConfig, ep: EndpointSection, props: dict[str, Any]) -> dict[str, Any]:
    """``InferenceEndpoint`` props of ``ep`` whose promoted variants' models read the promotion parameters."""
    variants = props["variants"]
    models = promoted_models(config, ep, {v.name: v.model for v in variants if v.model is not None})
    return {**props, "variants": [dataclasses.replace(v, model=models.get(v.name, v.model)) for v in variants]}


def initial_promotion_models(config: PlatformConfig) -> list[ModelSpec]:
    """Every promoted model of the platform with its config values: the promotion parameters' initial values."""
    from .config.endpoints import endpoint_props

    found: list[ModelSpec] = []
    by_name = {ep.name: ep for ep in config.endpoints}
    for endpoint in promoted_variants(config):
        props = with_promoted_models(config, by_name[endpoint], endpoint_props(config.prefix, by_name[endpoint]))
        found += [v.model for v in props["variants"] if v.model is not None and v.model.promoted is not None]
    return found
