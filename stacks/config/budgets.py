"""``budgets`` section: AWS Budgets for the platform and per team, and a cap on the estimated cost.

A budget's alerts go to the platform's notification topic: ``ACTUAL`` and ``FORECASTED`` spend
above a percentage of the monthly limit (AWS Budgets API ``Notification``: a budget has at most
10 notifications; thresholds are percentages here). Team budgets filter on the ``team_tag`` cost
allocation tag; the resources a team owns (``endpoints``, ``training_clusters``) carry that tag.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from constructs_lib.cost import BudgetAlert, SpendBudgetOptions
from constructs_lib.errors import Problem

from ..naming import PlatformNames
from .base import Section, matching

if TYPE_CHECKING:
    from . import PlatformConfig
    from .platform import PlatformSection

# AWS Budgets API: at most 10 notifications per budget (``Notification`` shape documentation).
MAX_NOTIFICATIONS_PER_BUDGET = 10
# AWS Budgets API ``BudgetName``: 1-100 characters, no ':' or '\'.
MAX_BUDGET_NAME = 100

Percent = Annotated[float, Field(gt=0, le=1000)]
TagValue = Annotated[
    str, matching(r"^[A-Za-z0-9_.:/=+\-@ ]{1,256}$", "1-256 letters, digits, spaces and _ . : / = + - @ (a tag value)")
]


class BudgetAlertsSection(Section):
    actual_percent: list[Percent] = Field(default_factory=lambda: [80.0, 100.0], description="ACTUAL spend above these % of the limit.")
    forecast_percent: list[Percent] = Field(default_factory=lambda: [100.0], description="FORECASTED spend above these %.")

    def to_spec(self) -> list[BudgetAlert]:
        """The alerts of every budget: the ``ACTUAL`` thresholds, then the ``FORECASTED`` ones."""
        return [BudgetAlert.actual(p) for p in self.actual_percent] + [BudgetAlert.forecasted(p) for p in self.forecast_percent]


class TeamBudgetSection(Section):
    name: TagValue = Field(description="Value of the team tag; the budget filters on it.")
    monthly_usd: float = Field(gt=0, description="Monthly limit in USD.")
    endpoints: list[str] = Field(default_factory=list, description="Config endpoint names tagged with this team.")
    training_clusters: list[str] = Field(default_factory=list, description="Config training_clusters tagged with this team.")


class BudgetsSection(Section):
    monthly_usd: float | None = Field(
        default=None, gt=0, description="Platform budget (resources tagged platform + environment); omitted: none."
    )
    team_tag: Annotated[
        str, matching(r"^[A-Za-z0-9_.:/=+\-@ ]{1,128}$", "1-128 letters, digits, spaces and _ . : / = + - @ (a tag key)")
    ] = Field(
        default="team", description="Cost allocation tag key of team budgets (activate it in the Billing console)."
    )
    teams: list[TeamBudgetSection] = Field(default_factory=list)
    alerts: BudgetAlertsSection = Field(default_factory=BudgetAlertsSection)
    max_estimated_monthly_usd: float | None = Field(
        default=None, gt=0, description="Refuse the config when the estimated always-on monthly cost exceeds this."
    )

    def to_spec(self, *, names: PlatformNames, platform: PlatformSection) -> dict[str, SpendBudgetOptions]:
        """``SpendBudget``'s keywords (all but the topic) per budget, keyed ``platform`` (with ``monthly_usd``)
        and ``team-<name>``: the platform's costs are those tagged with its name and environment, a team's
        those tagged ``team_tag: <name>`` in the environment."""
        alerts = self.alerts.to_spec()
        specs: dict[str, SpendBudgetOptions] = {}
        if self.monthly_usd is not None:
            specs["platform"] = SpendBudgetOptions(
                budget_name=names.budget("platform"), monthly_usd=self.monthly_usd, alerts=alerts,
                tags={"platform": platform.name, "environment": platform.environment},
            )
        for team in self.teams:
            specs[f"team-{team.name}"] = SpendBudgetOptions(
                budget_name=names.budget(f"team-{team.name}"), monthly_usd=team.monthly_usd, alerts=alerts,
                tags={self.team_tag: team.name, "environment": platform.environment},
            )
        return specs




def budgets_problems(config: PlatformConfig) -> list[Problem]:
    b = config.budgets
    if b is None:
        return []
    problems: list[Problem] = []
    alerts = len(b.alerts.actual_percent) + len(b.alerts.forecast_percent)
    if alerts == 0:
        problems.append(Problem("budgets.alerts", 0, "at least one actual_percent or forecast_percent threshold"))
    if alerts > MAX_NOTIFICATIONS_PER_BUDGET:
        problems.append(Problem(
            "budgets.alerts", alerts, f"at most {MAX_NOTIFICATIONS_PER_BUDGET} thresholds in all (AWS Budgets notifications per budget)"
        ))
    for key in ("actual_percent", "forecast_percent"):
        values = getattr(b.alerts, key)
        if len(set(values)) != len(values):
            problems.append(Problem(f"budgets.alerts.{key}", values, "distinct thresholds"))
    if b.monthly_usd is None and not b.teams:
        problems.append(Problem("budgets", "(no budget)", "monthly_usd (platform budget), teams, or both"))
    endpoints = {e.name for e in config.endpoints}
    clusters = {c.name for c in config.training_clusters}
    owner: dict[tuple[str, str], str] = {}
    names: list[str] = []
    for j, team in enumerate(b.teams):
        where = f"budgets.teams[{j}]"
        if team.name in names:
            problems.append(Problem(f"{where}.name", team.name, "a team name unique within budgets.teams"))
        names.append(team.name)
        name = PlatformNames.of(config).budget(f"team-{team.name}")
        if len(name) > MAX_BUDGET_NAME or ":" in name or "\\" in name:
            problems.append(Problem(f"{where}.name", team.name, f"a name that makes '{name}' a budget name (1-100 chars, no ':' or '\\')"))
        for kind, known, listed in (("endpoints", endpoints, team.endpoints), ("training_clusters", clusters, team.training_clusters)):
            for k, item in enumerate(listed):
                if item not in known:
                    problems.append(Problem(
                        f"{where}.{kind}[{k}]", item, f"a name in {kind} ({', '.join(sorted(known)) or 'none configured'})"
                    ))
                elif (kind, item) in owner:
                    problems.append(Problem(f"{where}.{kind}[{k}]", item, f"one team per resource (team {owner[kind, item]!r} has it)"))
                owner.setdefault((kind, item), team.name)
    if b.max_estimated_monthly_usd is not None:
        from stacks.cost import estimate

        est = estimate(config)
        if est.total_usd > b.max_estimated_monthly_usd:
            top = "; ".join(f"{i.label} ${i.monthly_usd:,.0f}" for i in est.biggest(3))
            problems.append(Problem(
                "budgets.max_estimated_monthly_usd", b.max_estimated_monthly_usd,
                f"at least the estimated monthly cost of always-on capacity, ${est.total_usd:,.0f} "
                f"({est.basis}); biggest items: {top}",
            ))
    return problems
