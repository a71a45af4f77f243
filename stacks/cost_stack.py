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

from constructs_lib.cost import BudgetAlert, SpendBudget, allow_budget_notifications

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
        alerts = [BudgetAlert.actual(p) for p in b.alerts.actual_percent]
        alerts += [BudgetAlert.forecasted(p) for p in b.alerts.forecast_percent]
        self.budgets: dict[str, SpendBudget] = {}
        if b.monthly_usd is not None:
            self.budgets["platform"] = SpendBudget(
                self, "PlatformBudget", budget_name=names.budget("platform"), monthly_usd=b.monthly_usd,
                topic=topic, alerts=alerts,
                tags={"platform": config.platform.name, "environment": config.platform.environment},
            )
        for team in b.teams:
            self.budgets[f"team-{team.name}"] = SpendBudget(
                self, f"TeamBudget-{team.name.replace('/', '-')}", budget_name=names.budget(f"team-{team.name}"),
                monthly_usd=team.monthly_usd, topic=topic, alerts=alerts,
                tags={b.team_tag: team.name, "environment": config.platform.environment},
            )
