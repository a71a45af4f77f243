"""``platform``, ``notifications`` and ``network`` sections."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .base import Section, matching

Email = Annotated[str, matching(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "an e-mail address such as ml-team@example.com")]
AvailabilityZone = Annotated[str, matching(r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$", "a zone name such as us-east-1a")]


class PlatformSection(Section):
    name: Annotated[
        str, matching(r"^[a-z][a-z0-9-]{0,14}$", "lower-case letters, digits and hyphens, 1-15 characters, starting with a letter")
    ] = Field(
        description="Lower-case prefix of stack and resource names (1-15 chars: bucket names add account and region)."
    )
    environment: Literal["dev", "staging", "prod"]
    account: Annotated[str, matching(r"^\d{12}$", "a 12-digit AWS account id")] | None = Field(
        default=None, description="Omitted: environment-agnostic templates."
    )
    region: Annotated[str, matching(r"^[a-z]{2}(-[a-z]+)+-\d$", "a region name such as us-east-1")] | None = None
    tags: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=128)],
        Annotated[str, StringConstraints(max_length=256)],
    ] = Field(default_factory=dict)
    termination_protection: bool | None = Field(
        default=None, description="Every stack termination-protected; default true in prod (the data stack always is), false elsewhere."
    )


class SlackSection(Section):
    """An AWS Chatbot Slack channel; the workspace must be authorized in the Chatbot console first."""

    workspace_id: Annotated[str, matching(r"^[0-9A-Z]{1,255}$", "1-255 upper-case letters and digits, e.g. T0123ABCD")] = Field(
        description="e.g. T0123ABCD"
    )
    channel_id: Annotated[str, matching(r"^[A-Za-z0-9]{1,256}$", "1-256 letters and digits, e.g. C0456EFGH")] = Field(
        description="e.g. C0456EFGH"
    )


class NotificationsSection(Section):
    emails: list[Email] = Field(default_factory=list)
    slack: SlackSection | None = Field(default=None, description="Alarm notifications of every severity in Slack.")


class NetworkSection(Section):
    """Either ``max_azs`` (create a VPC) or ``vpc_id`` with subnet ids (use an existing VPC)."""

    max_azs: int | None = Field(default=None, ge=1, le=6)
    availability_zones: list[AvailabilityZone] = Field(default_factory=list)
    vpc_id: Annotated[str, matching(r"^vpc-[0-9a-f]{8,17}$", "a VPC id such as vpc-0123456789abcdef0")] | None = None
    private_subnet_ids: list[Annotated[str, matching(r"^subnet-[0-9a-f]{8,17}$", "a subnet id such as subnet-0123456789abcdef0")]] = Field(
        default_factory=list
    )
    nat_gateways: int = Field(default=1, ge=0, le=6)
