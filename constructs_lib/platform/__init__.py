"""Shared security and data building blocks: KMS key, notification topic, artifact bucket."""

from .bucket import ArtifactBucket
from .key import PlatformKey
from .topic import NotificationTopic

__all__ = ["ArtifactBucket", "NotificationTopic", "PlatformKey"]
