"""Cost guardrails: AWS Budgets for the platform and per team, alerting the notification topic.

The platform budget covers costs tagged ``platform`` and ``environment`` with this platform's
values (every taggable resource carries both); a team budget covers costs tagged
``budgets.team_tag`` with the team's name (the endpoints and clusters a team owns carry it).
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.cost import SpendBudget, allow_budget_notifications

from .config import PlatformConfig
from .naming import PlatformNames


class CostStack(Stack):
    def __init__(
        self, scope: Construct, id: str, *, config: PlatformConfig, topic: sns.ITopic, key: kms.IKey,
        names: PlatformNames | None = None, **kwargs,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        names = names or PlatformNames.of(config)
        b = config.budgets
        assert b is not None
        allow_budget_notifications(topic, key)
        self.budgets: dict[str, SpendBudget] = {}
        for budget_key, options in b.to_spec(names=names, platform=config.platform).items():
            # Construct ids PlatformBudget and TeamBudget-<team> (a team name may hold '/', an id may not).
            team = budget_key.removeprefix("team-").replace("/", "-")
            self.budgets[budget_key] = SpendBudget(
                self, "PlatformBudget" if budget_key == "platform" else f"TeamBudget-{team}", topic=topic, **options,
            )
