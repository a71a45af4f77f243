"""``pipeline/delivery.yaml``: where the delivery pipeline lives, its source, and its stages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from .base import Section

Account = Annotated[str, StringConstraints(pattern=r"^\d{12}$")]
Region = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")]


class SourceSection(Section):
    branch: str = "main"
    repository: Annotated[str, StringConstraints(pattern=r"^[\w.-]+/[\w.-]+$")] | None = Field(
        default=None, description="owner/name at the Git host of connection_arn."
    )
    connection_arn: Annotated[str, StringConstraints(pattern=r"^arn:aws[\w-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection/[\w-]+$")] | None = None
    codecommit_repository: Annotated[str, StringConstraints(pattern=r"^[\w.-]{1,100}$")] | None = None

    @model_validator(mode="after")
    def _one_source(self):
        if (self.connection_arn is None) == (self.codecommit_repository is None):
            raise ValueError("exactly one of connection_arn (with repository) or codecommit_repository")
        if self.connection_arn is not None and self.repository is None:
            raise ValueError("repository (owner/name) with connection_arn")
        return self


class StageSection(Section):
    config: str = Field(description="Platform config of the stage, relative to delivery.yaml; needs account and region.")
    manual_approval: bool = Field(default=False, description="A person approves before it deploys (required for prod).")


class DeliveryConfig(Section):
    pipeline_name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9.@\-_]{1,100}$")]
    account: Account = Field(description="Tools account the pipeline runs in.")
    region: Region
    source: SourceSection
    stages: list[StageSection] = Field(min_length=1)


_ORDER = {"dev": 0, "staging": 1, "prod": 2}


def load_delivery(path: str | Path) -> tuple[DeliveryConfig, list]:
    """The delivery file and its stages' validated platform configs; every problem raised at once."""
    from pydantic import ValidationError

    from constructs_lib.errors import PlatformValidationError, Problem
    from stacks.delivery import DeliveryStage

    from . import _problems_from_pydantic, load_config
    from .environments import read_yaml

    path = Path(path)
    data = read_yaml(path)
    try:
        delivery = DeliveryConfig.model_validate(data if isinstance(data, dict) else {})
    except ValidationError as err:
        problems = _problems_from_pydantic(err)
        raise PlatformValidationError(str(path), [Problem(p.where, p.value, p.allowed.split("; allowed keys")[0]) for p in problems]) from None
    problems: list[Problem] = []
    stages = []
    for i, stage in enumerate(delivery.stages):
        where = f"stages[{i}]"
        try:
            config = load_config(path.parent / stage.config)
        except PlatformValidationError as err:
            problems.extend(Problem(f"{where}.config ({stage.config}) {p.where}", p.value, p.allowed) for p in err.problems)
            continue
        p = config.platform
        if not (p.account and p.region):
            problems.append(Problem(f"{where}.config", stage.config, "a config with platform.account and platform.region"))
        if p.environment == "prod" and not stage.manual_approval:
            problems.append(Problem(f"{where}.manual_approval", False, "true for a prod stage: a person approves before prod"))
        if stages and _ORDER[p.environment] < _ORDER[stages[-1].config.platform.environment]:
            problems.append(Problem(
                f"{where}.config", stage.config,
                f"stages in the order dev -> staging -> prod ({p.environment} after {stages[-1].config.platform.environment})",
            ))
        if any(s.name == p.environment.capitalize() for s in stages):
            problems.append(Problem(f"{where}.config", stage.config, f"one stage per environment ({p.environment} twice)"))
        stages.append(DeliveryStage(config=config, manual_approval=stage.manual_approval))
    if problems:
        raise PlatformValidationError(str(path), problems)
    return delivery, stages
