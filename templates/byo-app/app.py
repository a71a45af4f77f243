#!/usr/bin/env python3
"""Bring your own app: an application team's CDK app on the platform's construct library.

No platform config: the team composes ``constructs_lib`` constructs in its own stack, in its own
repository (``pip install`` the platform's package, see requirements.txt), and keeps the same
compliance checks (the five cdk-nag packs) on every synth.
"""

from __future__ import annotations

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, Stack, Stage
from constructs import Construct

from constructs_lib import (
    AutoScalingSpec,
    EndpointFailureNotifications,
    EndpointMonitoring,
    InferenceEndpoint,
    ModelSpec,
    NotificationTopic,
    PlatformKey,
    ServiceLevelObjective,
    SeverityTopics,
    SpendBudget,
    VariantSpec,
    add_compliance_checks,
    allow_budget_notifications,
)

IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3.0-cpu-py311-ubuntu20.04-sagemaker"


class RecommenderStack(Stack):
    """One real-time endpoint with severity-routed alarms, an SLO, failure notifications and a budget."""

    def __init__(self, scope: Construct, id: str, *, team: str, monthly_usd: float, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        key = PlatformKey(self, "Key", alias=f"alias/{team}-recommender").key
        topic = NotificationTopic(self, "Notifications", key=key, display_name=f"{team} recommender").topic
        self.endpoint = InferenceEndpoint(
            self, "Recommender", endpoint_name=f"{team}-recommender", encryption_key=key,
            variants=[VariantSpec(
                model=ModelSpec(image=IMAGE, model_data_url=f"s3://{team}-models/recommender/model.tar.gz"),
                instance_type="ml.c6i.xlarge", instance_count=2,
            )],
            autoscaling=AutoScalingSpec(min_capacity=2, max_capacity=6, target_invocations_per_instance=600),
        )
        topics = SeverityTopics(self, "Alarms", key=key, name_prefix=f"{team}-recommender")
        EndpointMonitoring(
            self, "Monitoring", endpoint=self.endpoint, routing=topics.topics,
            slo=ServiceLevelObjective(availability_percent=99.9),
        )
        EndpointFailureNotifications(self, "Failures", endpoint_names=[self.endpoint.endpoint_name], topic=topic, key=key)
        allow_budget_notifications(topic, key)
        SpendBudget(self, "Budget", budget_name=f"{team}-recommender", monthly_usd=monthly_usd, topic=topic,
                    tags={"team": team})


def build(app: Stage) -> RecommenderStack:
    return RecommenderStack(app, "TeamRecommender", team="search", monthly_usd=2500,
                            description="search team: recommender endpoint on constructs_lib")


if __name__ == "__main__":
    app = App()
    build(app)
    add_compliance_checks(app)
    app.synth()
