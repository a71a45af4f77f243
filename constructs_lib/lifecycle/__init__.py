"""Lifecycle glue: EventBridge rules and reliable Lambda functions reacting to SageMaker events."""

from .endpoint_notifications import EndpointFailureNotifications
from .reliable_function import ReliableFunction

__all__ = ["EndpointFailureNotifications", "ReliableFunction"]
