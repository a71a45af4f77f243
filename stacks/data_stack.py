"""Shared security and data: the platform KMS key, artifact bucket and notification topic.

Stateful: everything here is retained on stack deletion, and the stack is termination-protected in
``prod``. Logical ids here are part of the contract (tests pin them): renaming one replaces data.

With promoted endpoints (``lifecycle.auto_deploy_approved_models[].keep_promoted_version``) also the
promotion parameters (``PromotionParameters``, with the config's image and model data), here because
this stack deploys before the inference stack: CloudFormation resolves the inference stack's
``AWS::SSM::Parameter::Value<String>`` parameters when it creates that stack's change set, so they must
exist by then and cannot be created in the inference stack itself. They are not retained (see
``PromotionParameters``).
"""

from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from constructs_lib import ArtifactBucket, NotificationTopic, PlatformKey, PromotionParameters

from .config import PlatformConfig
from .naming import PlatformNames


class DataStack(Stack):
    """:param names: the platform's names (``build_platform`` passes its one object); default: derived from ``config``."""

    def __init__(
        self, scope: Construct, id: str, *, config: PlatformConfig, names: PlatformNames | None = None, **kwargs
    ) -> None:
        super().__init__(scope, id, termination_protection=config.platform.environment == "prod", **kwargs)
        names = names or PlatformNames.of(config)
        self.platform_key = PlatformKey(self, "PlatformKey", alias=names.key_alias)
        self.key = self.platform_key.key
        self.artifacts = ArtifactBucket(self, "Artifacts", key=self.key, bucket_name=names.artifact_bucket)
        self.bucket = self.artifacts.bucket
        self.notifications = NotificationTopic(
            self, "Notifications", key=self.key, display_name=f"{names.prefix} notifications",
            emails=config.notifications.emails,
        )
        self.topic = self.notifications.topic
        from .promotion import initial_promotion_models  # it names the artifact bucket defined here

        models = initial_promotion_models(config)
        self.promotion_parameters = PromotionParameters(self, "PromotionParameters", models=models) if models else None


