"""The Budgets and SNS reads of the budget wiring check (botocore Stubber, no sockets).

moto 5.2.5 has no DescribeSubscribersForNotification and shows every subscription as confirmed, so the
pagination, the pending state and the error codes are pinned here against botocore's own models.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from warden.adapters.budgets import BudgetsReader
from warden.adapters.identity import CallerIdentity
from warden.adapters.sns import SnsTopics
from warden.domain.wiring import TopicNotFound, WiringUnreadable
from warden.errors import AwsUnavailable, BudgetNotFound

ACCOUNT = "123456789012"
BUDGET = "consultation-app-monthly"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:warden-BudgetAlertTopic-9Z8Y7X"
NOTIFY = f"arn:aws:sns:us-east-1:{ACCOUNT}:warden-NotifyTopic-1A2B3C"
AT_80: dict[str, Any] = {
    "NotificationType": "ACTUAL",
    "ComparisonOperator": "GREATER_THAN",
    "Threshold": 80.0,
    "ThresholdType": "PERCENTAGE",
}
AT_100 = {**AT_80, "Threshold": 100.0, "NotificationState": "OK"}


@pytest.fixture
def budgets() -> Iterator[tuple[BudgetsReader, Stubber]]:
    client = boto3.client("budgets", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield BudgetsReader(client), stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def sns() -> Iterator[tuple[SnsTopics, Stubber]]:
    client = boto3.client("sns", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield SnsTopics(client), stubber
        stubber.assert_no_pending_responses()


def test_every_notification_is_read_with_its_subscribers_across_pages(budgets: tuple[BudgetsReader, Stubber]) -> None:
    # Given two pages of notifications, the second notification's subscribers also on two pages
    reader, stubber = budgets
    asked = {"AccountId": ACCOUNT, "BudgetName": BUDGET}
    stubber.add_response("describe_notifications_for_budget", {"Notifications": [AT_80], "NextToken": "n2"}, asked)
    stubber.add_response(
        "describe_subscribers_for_notification",
        {"Subscribers": [{"SubscriptionType": "EMAIL", "Address": "ops@example.com"}]},
        {**asked, "Notification": AT_80},
    )
    stubber.add_response("describe_notifications_for_budget", {"Notifications": [AT_100]}, {**asked, "NextToken": "n2"})
    stubber.add_response(
        "describe_subscribers_for_notification",
        {"Subscribers": [{"SubscriptionType": "EMAIL", "Address": "cfo@example.com"}], "NextToken": "s2"},
        {**asked, "Notification": AT_100},
    )
    stubber.add_response(
        "describe_subscribers_for_notification",
        {"Subscribers": [{"SubscriptionType": "SNS", "Address": TOPIC}]},
        {**asked, "Notification": AT_100, "NextToken": "s2"},
    )
    # When they are read / Then each notification carries all of its subscribers, the whole structure passed back
    first, second = reader.budget_notices(ACCOUNT, BUDGET)
    assert (first.notification_type, first.threshold, first.sns_topics()) == ("ACTUAL", Decimal(80), [])
    assert (second.threshold, second.sns_topics()) == (Decimal(100), [TOPIC])
    assert [s.address for s in second.subscribers] == ["cfo@example.com", TOPIC]


@pytest.mark.parametrize(
    ("code", "status", "raised"),
    [
        ("NotFoundException", 400, BudgetNotFound),
        ("AccessDeniedException", 400, WiringUnreadable),
        ("ThrottlingException", 400, AwsUnavailable),
        ("InternalErrorException", 500, AwsUnavailable),
    ],
)
def test_each_error_of_the_notifications_read_has_its_meaning(
    budgets: tuple[BudgetsReader, Stubber], code: str, status: int, raised: type[Exception]
) -> None:
    reader, stubber = budgets
    stubber.add_client_error("describe_notifications_for_budget", code, "no", status)
    with pytest.raises(raised):
        reader.budget_notices(ACCOUNT, BUDGET)


def test_a_refusal_to_list_subscribers_names_the_call_and_the_code(budgets: tuple[BudgetsReader, Stubber]) -> None:
    reader, stubber = budgets
    stubber.add_response(
        "describe_notifications_for_budget", {"Notifications": [AT_80]}, {"AccountId": ACCOUNT, "BudgetName": BUDGET}
    )
    stubber.add_client_error("describe_subscribers_for_notification", "AccessDeniedException", "no", 400)
    with pytest.raises(WiringUnreadable) as refused:
        reader.budget_notices(ACCOUNT, BUDGET)
    assert refused.value.code == "AccessDeniedException"
    assert "DescribeSubscribersForNotification" in refused.value.reason


def test_a_pending_subscription_is_not_confirmed(sns: tuple[SnsTopics, Stubber]) -> None:
    # Given a confirmed queue, a pending e-mail (SubscriptionArn "PendingConfirmation"), across two pages
    topics, stubber = sns
    stubber.add_response(
        "list_subscriptions_by_topic",
        {
            "Subscriptions": [
                {"SubscriptionArn": f"{NOTIFY}:0f6c", "Protocol": "sqs", "Endpoint": "arn:aws:sqs:...:inbox"}
            ],
            "NextToken": "t2",
        },
        {"TopicArn": NOTIFY},
    )
    stubber.add_response(
        "list_subscriptions_by_topic",
        {"Subscriptions": [{"SubscriptionArn": "PendingConfirmation", "Protocol": "email", "Endpoint": "a@b.c"}]},
        {"TopicArn": NOTIFY, "NextToken": "t2"},
    )
    # When they are read / Then only the queue counts as confirmed
    assert [(s.protocol, s.confirmed) for s in topics.subscriptions(NOTIFY)] == [("sqs", True), ("email", False)]


@pytest.mark.parametrize(
    ("code", "raised"),
    [("NotFound", TopicNotFound), ("AuthorizationError", WiringUnreadable), ("Throttled", AwsUnavailable)],
)
def test_each_error_of_the_subscriptions_read_has_its_meaning(
    sns: tuple[SnsTopics, Stubber], code: str, raised: type[Exception]
) -> None:
    topics, stubber = sns
    stubber.add_client_error("list_subscriptions_by_topic", code, "no", 429 if code == "Throttled" else 404)
    with pytest.raises(raised):
        topics.subscriptions(NOTIFY)


def test_the_caller_is_read_and_refused_credentials_are_unreadable() -> None:
    client = boto3.client("sts", region_name="eu-west-1")
    with Stubber(client) as stubber:
        stubber.add_response("get_caller_identity", {"Account": ACCOUNT, "Arn": "arn:aws:iam::123456789012:user/alice"})
        stubber.add_client_error("get_caller_identity", "ExpiredToken", "The security token included has expired", 403)
        identity = CallerIdentity(client)
        assert identity.region() == "eu-west-1"
        assert identity.whoami() == (ACCOUNT, "arn:aws:iam::123456789012:user/alice")
        with pytest.raises(WiringUnreadable, match="ExpiredToken"):
            identity.whoami()
