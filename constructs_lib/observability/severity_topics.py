"""``SeverityTopics``: where alarms go, one encrypted SNS topic per severity, optionally into Slack."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_chatbot as chatbot
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..errors import Problems
from ..platform.topic import NotificationTopic
from .alarms import AlarmRouting, Severity

SLACK_WORKSPACE_ID = re.compile(r"^[0-9A-Z]{1,255}$")  # CloudFormation schema of AWS::Chatbot::SlackChannelConfiguration
SLACK_CHANNEL_ID = re.compile(r"^[A-Za-z0-9]{1,256}$")
CHANNEL_CONFIGURATION_NAME = re.compile(r"^[A-Za-z0-9-_]{1,128}$")


@dataclass(frozen=True)
class SlackChannel:
    """A Slack channel of a workspace already authorized in the AWS Chatbot console (a one-time,
    manual OAuth step; deployment fails until it is done).

    :param workspace_id: e.g. ``T0123ABCD`` (Chatbot console, "Workspace details").
    :param channel_id: e.g. ``C0456EFGH`` (Slack: channel details, bottom).
    """

    workspace_id: str
    channel_id: str


class SeverityTopics(Construct):
    """A KMS-encrypted, TLS-only topic per :class:`Severity` (``topics``), each with the e-mail
    subscriptions (and their dead-letter queue) of :class:`NotificationTopic`, and optionally one AWS
    Chatbot Slack channel subscribed to all of them (``slack_channel``).

    ``routing`` is what :class:`EndpointMonitoring` and :class:`ClusterMonitoring` take.

    :param key: encrypts the topics; its policy must let ``cloudwatch.amazonaws.com`` use it
        (:class:`PlatformKey` does), or alarm notifications are silently dropped.
    :param name_prefix: display names ``<prefix> <severity> alarms`` and the Slack channel
        configuration name ``<prefix>-alarms``.
    :param emails: subscribed to every severity; default none.
    :param slack: default none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        key: kms.IKey,
        name_prefix: str,
        emails: Sequence[str] = (),
        slack: SlackChannel | None = None,
    ) -> None:
        super().__init__(scope, id)
        _validate(self.node.path, name_prefix, slack)
        self.notification_topics: dict[Severity, NotificationTopic] = {
            severity: NotificationTopic(
                self, severity.value.capitalize(), key=key,
                display_name=f"{name_prefix} {severity.value} alarms", emails=emails,
            )
            for severity in Severity
        }
        self.topics: dict[Severity, sns.ITopic] = {s: t.topic for s, t in self.notification_topics.items()}
        self.slack_channel: chatbot.SlackChannelConfiguration | None = None
        if slack is not None:
            self.slack_channel = chatbot.SlackChannelConfiguration(
                self, "SlackChannel",
                slack_channel_configuration_name=f"{name_prefix}-alarms",
                slack_workspace_id=slack.workspace_id,
                slack_channel_id=slack.channel_id,
                notification_topics=list(self.topics.values()),
                logging_level=chatbot.LoggingLevel.ERROR,
            )

    @property
    def routing(self) -> AlarmRouting:
        return dict(self.topics)


def _validate(path: str, name_prefix: str, slack: SlackChannel | None) -> None:
    p = Problems(f"SeverityTopics {path}")
    if slack is not None:
        p.check(bool(SLACK_WORKSPACE_ID.match(slack.workspace_id)), "slack.workspace_id", slack.workspace_id,
                "upper-case letters and digits, e.g. T0123ABCD")
        p.check(bool(SLACK_CHANNEL_ID.match(slack.channel_id)), "slack.channel_id", slack.channel_id,
                "letters and digits, e.g. C0456EFGH")
        p.check(bool(CHANNEL_CONFIGURATION_NAME.match(f"{name_prefix}-alarms")), "name_prefix", name_prefix,
                "letters, digits, '-' and '_', at most 121 characters")
    p.raise_if_any()
