"""``platform``, ``notifications`` and ``network`` sections."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .base import Section

Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
AvailabilityZone = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$")]


class PlatformSection(Section):
    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,14}$")] = Field(
        description="Lower-case prefix of stack and resource names (1-15 chars: bucket names add account and region)."
    )
    environment: Literal["dev", "staging", "prod"]
    account: Annotated[str, StringConstraints(pattern=r"^\d{12}$")] | None = Field(
        default=None, description="Omitted: environment-agnostic templates."
    )
    region: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] | None = None
    tags: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=128)],
        Annotated[str, StringConstraints(max_length=256)],
    ] = Field(default_factory=dict)
    termination_protection: bool | None = Field(
        default=None, description="Every stack termination-protected; default true in prod (the data stack always is), false elsewhere."
    )


class SlackSection(Section):
    """An AWS Chatbot Slack channel; the workspace must be authorized in the Chatbot console first."""

    workspace_id: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{1,255}$")] = Field(description="e.g. T0123ABCD")
    channel_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,256}$")] = Field(description="e.g. C0456EFGH")


class NotificationsSection(Section):
    emails: list[Email] = Field(default_factory=list)
    slack: SlackSection | None = Field(default=None, description="Alarm notifications of every severity in Slack.")


class NetworkSection(Section):
    """Either ``max_azs`` (create a VPC) or ``vpc_id`` with subnet ids (use an existing VPC)."""

    max_azs: int | None = Field(default=None, ge=1, le=6)
    availability_zones: list[AvailabilityZone] = Field(default_factory=list)
    vpc_id: Annotated[str, StringConstraints(pattern=r"^vpc-[0-9a-f]{8,17}$")] | None = None
    private_subnet_ids: list[Annotated[str, StringConstraints(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = Field(
        default_factory=list
    )
    nat_gateways: int = Field(default=1, ge=0, le=6)
