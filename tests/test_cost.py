"""Cost guardrails: budgets to the encrypted topic, cost allocation tags, the dated estimate and its cap."""

from __future__ import annotations

import copy
import functools

import pytest
import yaml

from constructs_lib.errors import PlatformValidationError
from stacks.config import DEFAULT_CONFIG, parse_config
from stacks.cost import HOURS_PER_MONTH, INSTANCE_USD_PER_HOUR, PRICES_AS_OF, estimate
from tests.conftest import only, resources_of

TOPIC = {
    "Fn::GetStackOutput": {
        "StackName": "acme-ml-dev-data", "Region": {"Ref": "AWS::Region"},
        "OutputName": "PublishOutputRefNotificationsCE9D1424634BD2EE",
    }
}


def _notification(kind: str, percent: float) -> dict:
    return {
        "Notification": {"ComparisonOperator": "GREATER_THAN", "NotificationType": kind, "Threshold": percent, "ThresholdType": "PERCENTAGE"},
        "Subscribers": [{"Address": TOPIC, "SubscriptionType": "SNS"}],
    }


def _tag(key: str, value: str) -> dict:
    return {"Tags": {"Key": key, "MatchOptions": ["EQUALS"], "Values": [value]}}


ALERTS = [_notification("ACTUAL", 80), _notification("ACTUAL", 100), _notification("FORECASTED", 100)]


def test_default_platform_has_a_platform_budget_with_actual_and_forecast_alerts_to_the_topic(default_platform):
    budget = default_platform["cost"].raw["Resources"]["PlatformBudget94E7F3E4"]
    assert budget["Type"] == "AWS::Budgets::Budget"
    assert budget["Properties"]["Budget"] == {
        "BudgetLimit": {"Amount": 30000, "Unit": "USD"}, "BudgetName": "acme-ml-dev-platform", "BudgetType": "COST",
        "TimeUnit": "MONTHLY", "Metrics": ["UnblendedCost"],  # FilterExpression goes with Metrics (CreateBudget)
        "FilterExpression": {"And": [_tag("platform", "acme-ml"), _tag("environment", "dev")]},
    }
    assert budget["Properties"]["NotificationsWithSubscribers"] == ALERTS


def test_team_budgets_filter_on_the_team_tag(default_platform):
    budgets = resources_of(default_platform["cost"], "AWS::Budgets::Budget")
    teams = {b["Properties"]["Budget"]["BudgetName"]: b["Properties"]["Budget"] for b in budgets.values()}
    assert sorted(teams) == ["acme-ml-dev-platform", "acme-ml-dev-team-llm", "acme-ml-dev-team-search"]
    assert teams["acme-ml-dev-team-search"]["BudgetLimit"] == {"Amount": 4000, "Unit": "USD"}
    assert teams["acme-ml-dev-team-search"]["FilterExpression"] == {"And": [_tag("team", "search"), _tag("environment", "dev")]}


def test_budgets_may_publish_to_the_topic_and_use_its_key(default_platform):
    """AWS Budgets user guide: topic policy for budgets.amazonaws.com scoped by aws:SourceAccount and
    aws:SourceArn; the topic is KMS-encrypted, so the key policy lets Budgets use the key too."""
    data = default_platform["data"].raw["Resources"]
    _, policy = only(default_platform["data"], "AWS::SNS::TopicPolicy")
    (statement,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "AllowBudgetsToPublish"]
    assert statement == {
        "Sid": "AllowBudgetsToPublish", "Effect": "Allow", "Action": "sns:Publish",
        "Principal": {"Service": "budgets.amazonaws.com"}, "Resource": {"Ref": "NotificationsCE9D1424"},
        "Condition": {
            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
            "ArnLike": {"aws:SourceArn": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":budgets::", {"Ref": "AWS::AccountId"}, ":*"]]}},
        },
    }
    key_statements = data["PlatformKey205D0CA7"]["Properties"]["KeyPolicy"]["Statement"]
    (key_statement,) = [s for s in key_statements if s.get("Sid") == "AllowBudgetsToUseKey"]
    assert key_statement == {
        "Sid": "AllowBudgetsToUseKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Principal": {"Service": "budgets.amazonaws.com"}, "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
    }


@functools.cache
def _tag_property(cfn_type: str) -> str | None:
    """The resource's tag property per the CloudFormation schema bundled with cfn-lint (None: not taggable)."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", cfn_type).schema
    tagging = schema.get("tagging", {})
    if not tagging.get("taggable", True) or "tagProperty" not in tagging:
        return None
    return tagging["tagProperty"].rsplit("/", 1)[-1]


def _tags(properties: dict, prop: str) -> dict:
    tags = properties.get(prop) or {}
    if isinstance(tags, list):
        return {t.get("Key"): t.get("Value") for t in tags if isinstance(t, dict)}
    return dict(tags) if isinstance(tags, dict) else {}


def test_every_taggable_resource_carries_the_cost_allocation_tags(default_platform):
    untagged = []
    checked = 0
    for concern, template in default_platform.templates.items():
        for logical_id, resource in template.raw["Resources"].items():
            prop = _tag_property(resource["Type"])
            if prop is None:
                continue
            checked += 1
            tags = _tags(resource.get("Properties", {}), prop)
            if tags.get("platform") != "acme-ml" or tags.get("environment") != "dev" or tags.get("cost-center") != "4711":
                untagged.append(f"{concern}/{logical_id} ({resource['Type']})")
    assert checked > 100
    # CDK's CustomResourceProvider (restrictDefaultSecurityGroup) writes a plain CfnResource role and
    # function, which the Tags aspect cannot reach: the only exceptions (cents a month).
    assert sorted(untagged) == [
        "network/CustomVpcRestrictDefaultSGCustomResourceProviderHandlerDC833E5E (AWS::Lambda::Function)",
        "network/CustomVpcRestrictDefaultSGCustomResourceProviderRole26592FE0 (AWS::IAM::Role)",
    ]


def test_team_owned_resources_carry_the_team_tag(default_platform):
    inference = default_platform["inference"].raw["Resources"]
    teams = {}
    for resource in inference.values():
        if resource["Type"] == "AWS::SageMaker::Endpoint":
            tags = _tags(resource["Properties"], "Tags")
            teams[resource["Properties"]["EndpointName"]] = tags["team"]
    assert teams == {
        "acme-ml-dev-chat-llm": "llm", "acme-ml-dev-ranker": "search", "acme-ml-dev-fraud-scorer": "ml-platform",
        "acme-ml-dev-embeddings": "ml-platform", "acme-ml-dev-batch-scoring": "ml-platform",
        "acme-ml-dev-llm-hosting": "llm", "acme-ml-dev-many-models": "ml-platform",
    }
    _, cluster = only(default_platform["training"], "AWS::SageMaker::Cluster")
    assert _tags(cluster["Properties"], "Tags")["team"] == "llm"
    _, fsx = only(default_platform["training"], "AWS::FSx::FileSystem")
    assert _tags(fsx["Properties"], "Tags")["team"] == "llm"


def test_estimate_of_the_default_config_prices_always_on_capacity(default_config):
    est = estimate(default_config)
    items = {i.label: i.monthly_usd for i in est.items}
    g5_2x = INSTANCE_USD_PER_HOUR["ml.g5.2xlarge"] * HOURS_PER_MONTH
    assert items["endpoint chat-llm: 2 x ml.g5.2xlarge"] == round(2 * g5_2x, 2)  # autoscaling min 2
    assert items["endpoint ranker/candidate: 1 x ml.g5.xlarge"] == round(INSTANCE_USD_PER_HOUR["ml.g5.xlarge"] * 730, 2)
    assert items["HyperPod llm-pretrain/workers: 2 x ml.g5.2xlarge"] == round(2 * g5_2x, 2)
    assert items["FSx for Lustre llm-pretrain: 1200 GiB PERSISTENT_2 125 MB/s/TiB"] == round(1200 * 0.145, 2)
    assert items["NAT gateways: 1"] == round(0.045 * 730, 2)
    # scale-to-zero kinds and serverless add nothing always-on
    assert not any(label.startswith(("endpoint batch-scoring", "endpoint llm-hosting", "endpoint embeddings")) for label in items)
    assert est.total_usd == pytest.approx(sum(items.values()))
    summary = est.summary()
    assert summary.startswith(f"Estimated monthly cost of always-on capacity: ${est.total_usd:,.0f} (estimate: on-demand us-east-1 prices as of {PRICES_AS_OF}")


def test_unknown_instance_types_are_listed_as_not_priced(default_config):
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    data["endpoints"][6]["instance_type"] = "ml.r5d.24xlarge"
    est = estimate(parse_config(data))
    assert [i.label for i in est.unpriced] == ["endpoint many-models: 2 x ml.r5d.24xlarge"]
    assert "not priced  endpoint many-models: 2 x ml.r5d.24xlarge" in est.summary()


def test_config_over_its_cap_is_refused_naming_the_biggest_items():
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    data["budgets"]["max_estimated_monthly_usd"] = 5000
    with pytest.raises(PlatformValidationError, match=(
        r"budgets.max_estimated_monthly_usd: got 5000.0; at least the estimated monthly cost of always-on capacity, "
        r"\$7,897 \(estimate: on-demand us-east-1 prices as of 2026-12-01, 730 h/month\); biggest items: "
        r"endpoint chat-llm: 2 x ml.g5.2xlarge \$2,212; HyperPod llm-pretrain/workers: 2 x ml.g5.2xlarge \$2,212; "
        r"endpoint ranker/current: 1 x ml.g5.xlarge \$1,028"
    )):
        parse_config(data)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"teams": [{"name": "a", "monthly_usd": 1, "endpoints": ["nope"]}]}, r"budgets.teams\[0\].endpoints\[0\]: got 'nope'; a name in endpoints"),
        ({"teams": [{"name": "a", "monthly_usd": 1, "endpoints": ["ranker"]}, {"name": "b", "monthly_usd": 1, "endpoints": ["ranker"]}]},
         r"budgets.teams\[1\].endpoints\[0\]: got 'ranker'; one team per resource \(team 'a' has it\)"),
        ({"teams": [{"name": "a", "monthly_usd": 1}, {"name": "a", "monthly_usd": 2}]}, r"budgets.teams\[1\].name: got 'a'; a team name unique"),
        ({"alerts": {"actual_percent": [10, 20, 30, 40, 50, 60], "forecast_percent": [70, 80, 90, 100, 110]}},
         r"budgets.alerts: got 11; at most 10 thresholds"),
        ({"alerts": {"actual_percent": [], "forecast_percent": []}}, r"budgets.alerts: got 0; at least one"),
        ({"alerts": {"actual_percent": [80, 80]}}, r"budgets.alerts.actual_percent: got \[80.0, 80.0\]; distinct thresholds"),
        ({"monthly_usd": None, "teams": []}, r"budgets: got '\(no budget\)'; monthly_usd \(platform budget\), teams, or both"),
        ({"teams": [{"name": "x" * 90, "monthly_usd": 1}]}, r"budgets.teams\[0\].name: got 'x+'; a name that makes"),
        ({"monthly_usd": 0}, r"budgets.monthly_usd: got 0; Input should be greater than 0"),
    ],
)
def test_budget_config_errors_name_the_key(changes, expected):
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    data["budgets"] = {**copy.deepcopy(data["budgets"]), **changes}
    with pytest.raises(PlatformValidationError, match=expected):
        parse_config(data)


def test_spend_budget_construct_refuses_bad_props():
    from aws_cdk import Stack
    from aws_cdk import aws_sns as sns

    from constructs_lib.cost import BudgetAlert, SpendBudget
    from tests.conftest import new_app

    stack = Stack(new_app(), "S")
    topic = sns.Topic(stack, "T")
    with pytest.raises(PlatformValidationError, match=r"S/B: 3 problem\(s\)") as info:
        SpendBudget(stack, "B", budget_name="a:b", monthly_usd=0, topic=topic, alerts=[BudgetAlert.actual(0.01)])
    assert [p.where for p in info.value.problems] == ["monthly_usd", "budget_name", "alerts[0].percent"]
