"""``SpendBudget``: a monthly AWS Budgets cost budget filtered on tags, alerting an SNS topic.

AWS sources: CloudFormation ``AWS::Budgets::Budget`` (schema bundled with cfn-lint: ``Budget``
with ``FilterExpression``, ``NotificationsWithSubscribers``); AWS Budgets API ``Notification``
(at most 10 per budget, one SNS subscriber each; ``CostFilters`` deprecated since 2025-04-18 in
favour of ``FilterExpression``); AWS Budgets user guide, "Creating an Amazon SNS topic for budget
notifications" (topic policy for ``budgets.amazonaws.com`` scoped by ``aws:SourceAccount`` and
``aws:SourceArn``) and, for an encrypted topic, a key policy letting the same principal use the key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TypedDict

from aws_cdk import Stack
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..errors import Problems

BUDGETS_PRINCIPAL = "budgets.amazonaws.com"
MAX_NOTIFICATIONS = 10


class AlertKind(str, Enum):
    ACTUAL = "ACTUAL"
    FORECASTED = "FORECASTED"


@dataclass(frozen=True)
class BudgetAlert:
    """Notify when ``kind`` spend exceeds ``percent`` of the budget's monthly limit."""

    kind: AlertKind
    percent: float

    @classmethod
    def actual(cls, percent: float) -> BudgetAlert:
        return cls(AlertKind.ACTUAL, percent)

    @classmethod
    def forecasted(cls, percent: float) -> BudgetAlert:
        return cls(AlertKind.FORECASTED, percent)


class _SpendBudgetOptionsRequired(TypedDict):
    """The keywords :class:`SpendBudgetOptions` must hold (the constructor's required ones)."""

    budget_name: str
    monthly_usd: float


class SpendBudgetOptions(_SpendBudgetOptionsRequired, total=False):
    """The keyword arguments of :class:`SpendBudget` but the ``topic``, with the constructor's names,
    types and defaults: ``SpendBudget(scope, id, topic=..., **options)`` (type checkers check the
    splat). The platform's config builds one per budget (``BudgetsSection.to_spec()``).
    """

    tags: Mapping[str, str]
    alerts: Sequence[BudgetAlert]


def allow_budget_notifications(topic: sns.ITopic, key: kms.IKey | None = None) -> None:
    """Let AWS Budgets of this account publish to ``topic`` (and use ``key``, when the topic is
    encrypted with a key defined in this app). Without both, budget alerts are silently dropped."""
    stack = Stack.of(topic)
    source = {
        "StringEquals": {"aws:SourceAccount": stack.account},
        "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:budgets::{stack.account}:*"},
    }
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowBudgetsToPublish", principals=[iam.ServicePrincipal(BUDGETS_PRINCIPAL)],
            actions=["sns:Publish"], resources=[topic.topic_arn], conditions=source,
        )
    )
    if isinstance(key, kms.Key):
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowBudgetsToUseKey", principals=[iam.ServicePrincipal(BUDGETS_PRINCIPAL)],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" means this key
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )


class SpendBudget(Construct):
    """A monthly ``COST`` budget of ``monthly_usd``, for the costs tagged with every ``tags`` pair.

    ``budget`` is the ``CfnBudget``. Tags must be activated as cost allocation tags (Billing
    console or ``aws ce update-cost-allocation-tags-status``) before Budgets can filter on them.

    :param tags: tag key -> value, all of which a cost must carry; empty: the whole account.
    :param alerts: up to 10; each notifies ``topic`` (grant Budgets access with
        :func:`allow_budget_notifications`).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        budget_name: str,
        monthly_usd: float,
        topic: sns.ITopic,
        tags: Mapping[str, str] = {},
        alerts: Sequence[BudgetAlert] = (BudgetAlert.actual(80), BudgetAlert.actual(100), BudgetAlert.forecasted(100)),
    ) -> None:
        super().__init__(scope, id)
        problems = Problems(self.node.path)
        problems.check(monthly_usd > 0, "monthly_usd", monthly_usd, "a positive amount of USD")
        problems.check(1 <= len(alerts) <= MAX_NOTIFICATIONS, "alerts", len(alerts), f"1-{MAX_NOTIFICATIONS} alerts (AWS Budgets notifications per budget)")
        problems.check(1 <= len(budget_name) <= 100 and not set(budget_name) & {":", "\\"}, "budget_name", budget_name, "1-100 characters without ':' or '\\'")
        for i, alert in enumerate(alerts):
            problems.check(0.1 <= alert.percent <= 1_000_000_000, f"alerts[{i}].percent", alert.percent, "0.1-1e9 percent")
        problems.raise_if_any()
        filters = [
            budgets.CfnBudget.ExpressionProperty(
                tags=budgets.CfnBudget.TagValuesProperty(key=k, values=[v], match_options=["EQUALS"])
            )
            for k, v in tags.items()
        ]
        expression = (
            None if not filters else filters[0] if len(filters) == 1 else budgets.CfnBudget.ExpressionProperty(and_=filters)
        )
        self.budget = budgets.CfnBudget(
            self, "Resource",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=budget_name, budget_type="COST", time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=monthly_usd, unit="USD"),
                filter_expression=expression,
                metrics=["UnblendedCost"],  # FilterExpression goes with Metrics (not CostTypes)
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        notification_type=a.kind.value, comparison_operator="GREATER_THAN",
                        threshold=a.percent, threshold_type="PERCENTAGE",
                    ),
                    subscribers=[budgets.CfnBudget.SubscriberProperty(subscription_type="SNS", address=topic.topic_arn)],
                )
                for a in alerts
            ],
        )
