"""A fleet's settings: the stack's, with each service's `warden:*` tags laid over them; a malformed tag falls back."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from warden.domain.alarms import AlarmAction
from warden.domain.schedule import WorkingHours, last_boundary
from warden.errors import SettingsError
from warden.settings import Settings, StackSettings, service_overrides

ARN = "arn:aws:apprunner:eu-west-1:123456789012:service/front/0123456789abcdef0123456789abcdef"
OTHER = "arn:aws:ecs:eu-west-1:123456789012:service/prod/back"
TG = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/back/0123456789abcdef"
STACK = {
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:warden-notify",
    "STATE_TABLE": "warden-state",
    "BUDGET_NAME": "team-monthly",
}


def test_a_stack_may_guard_tagged_services_alone() -> None:
    # Given neither SERVICE_ARN nor SERVICE_ARNS, When the stack's settings are read
    stack = StackSettings.from_env(STACK)
    # Then they are valid and list no service
    assert stack.services == ()


def test_service_arn_and_service_arns_are_one_list_without_repeats_service_arn_first() -> None:
    stack = StackSettings.from_env({**STACK, "SERVICE_ARN": ARN, "SERVICE_ARNS": f" {OTHER}, {ARN},,"})
    assert [ref.arn for ref in stack.services] == [ARN, OTHER]


def test_a_bad_arn_in_service_arns_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="SERVICE_ARNS"):
        StackSettings.from_env({**STACK, "SERVICE_ARNS": f"{ARN},arn:aws:ecs:nope"})


def test_the_one_service_settings_still_require_service_arn() -> None:
    with pytest.raises(SettingsError, match="SERVICE_ARN is not set"):
        Settings.from_env(STACK)


def test_a_services_tags_set_its_budget_hours_actions_repository_and_target_group() -> None:
    # Given a stack and a service tagged with every setting tag
    stack = StackSettings.from_env({**STACK, "SERVICE_ARNS": OTHER})
    tags = {
        "warden:budget": "back-monthly",
        "warden:hours": "MON-FRI 07:30-19:00 America/New_York",
        "warden:alarm-actions": "*-cpu=pause",
        "warden:repository": "team/back",
        "warden:target-group": TG,
    }
    # When its settings are made
    settings = stack.for_service(stack.services[0], tags)
    # Then each tag replaced the stack's value, and nothing was reported
    assert settings.budget_name == "back-monthly"
    assert settings.working_hours == WorkingHours.parse("America/New_York", "07:30", "19:00", "MON-FRI")
    assert settings.hours_from_tag is True
    assert settings.alarm_actions.resolve("warden-back-cpu").action is AlarmAction.PAUSE
    assert settings.ecr_repository == "team/back"
    assert settings.target_group_arn == TG
    assert service_overrides(tags).problems == ()


@pytest.mark.parametrize(
    ("tag", "value"),
    [
        ("warden:budget", "a:b"),
        ("warden:hours", "MON-FRI 18:00-08:00 Europe/Berlin"),
        ("warden:hours", "weekdays 8-6 Berlin"),
        ("warden:hours", "MON-FRI 08:00-18:00 Mars/Olympus"),
        ("warden:alarm-actions", "*-cpu=explode"),
        ("warden:repository", "Not A Repo"),
        ("warden:target-group", "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/x/1"),
    ],
)
def test_a_malformed_tag_is_one_problem_naming_it_and_that_setting_stays_the_stacks(tag: str, value: str) -> None:
    # Given a service with one malformed tag and one good one
    stack = StackSettings.from_env({**STACK, "SERVICE_ARNS": OTHER})
    tags = {tag: value, "warden:repository" if tag != "warden:repository" else "warden:budget": "fine-one"}
    # When its settings are made
    problems = service_overrides(tags).problems
    settings = stack.for_service(stack.services[0], tags)
    # Then the one problem names the tag, and that setting is the stack's
    assert len(problems) == 1
    assert problems[0].startswith(f"{tag}=")
    field = {
        "warden:budget": "budget_name",
        "warden:hours": "working_hours",
        "warden:alarm-actions": "alarm_actions",
        "warden:repository": "ecr_repository",
        "warden:target-group": "target_group_arn",
    }[tag]
    assert getattr(settings, field) == getattr(stack, field)


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "warden:budget",
                "warden:hours",
                "warden:alarm-actions",
                "warden:repository",
                "warden:target-group",
                "warden:guard",
                "Name",
            ]
        ),
        st.text(max_size=60),
    )
)
def test_no_tag_value_whatever_it_holds_stops_a_services_settings(tags: dict[str, str]) -> None:
    # Given any tag values at all, When a service's settings are made, Then they are made (problems at most)
    stack = StackSettings.from_env({**STACK, "SERVICE_ARNS": OTHER})
    settings = stack.for_service(stack.services[0], tags)
    assert settings.service.arn == OTHER


def test_hours_off_follow_the_stack() -> None:
    stack = StackSettings.from_env({**STACK, "SERVICE_ARNS": OTHER})
    settings = stack.for_service(stack.services[0], {"warden:hours": "off"})
    assert settings.working_hours == stack.working_hours
    assert settings.hours_from_tag is False


def test_only_the_first_listed_service_keeps_the_unscoped_event_keys() -> None:
    stack = StackSettings.from_env({**STACK, "SERVICE_ARN": ARN, "SERVICE_ARNS": OTHER})
    first, second = (stack.for_service(ref) for ref in stack.services)
    assert first.event_scope == ""
    assert second.event_scope == OTHER


BERLIN = WorkingHours.parse("Europe/Berlin", "08:00", "18:00", "MON-FRI")


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Monday 09:00 Berlin (winter, UTC+1): the start at 07:00 UTC
        (datetime(2026, 12, 7, 8, 0, tzinfo=UTC), (datetime(2026, 12, 7, 7, 0, tzinfo=UTC), True)),
        # Saturday: Friday's end (17:00 UTC)
        (datetime(2026, 12, 12, 12, 0, tzinfo=UTC), (datetime(2026, 12, 11, 17, 0, tzinfo=UTC), False)),
        # Monday after the spring change (UTC+2): 08:00 local is 06:00 UTC
        (datetime(2027, 3, 29, 6, 30, tzinfo=UTC), (datetime(2027, 3, 29, 6, 0, tzinfo=UTC), True)),
        # Friday 2026-10-23 (UTC+2) ends at 16:00 UTC; after the autumn change Monday starts at 07:00 UTC
        (datetime(2026, 10, 26, 6, 59, tzinfo=UTC), (datetime(2026, 10, 23, 16, 0, tzinfo=UTC), False)),
        (datetime(2026, 10, 26, 7, 0, tzinfo=UTC), (datetime(2026, 10, 26, 7, 0, tzinfo=UTC), True)),
    ],
)
def test_the_last_boundary_is_local_time_across_daylight_saving_changes(
    now: datetime, expected: tuple[datetime, bool]
) -> None:
    assert last_boundary(BERLIN, now) == expected


@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)))
def test_the_last_boundary_agrees_with_the_working_hours_decision(now: datetime) -> None:
    # Given any moment, When the last boundary is found, Then it is no later than now and says what the hours say
    from warden.domain.schedule import working_hours_decision

    boundary = last_boundary(BERLIN, now)
    assert boundary is not None
    moment, starts = boundary
    assert moment <= now
    assert starts is working_hours_decision(BERLIN, now).working
    assert moment.astimezone(BERLIN.zone).time() in (time(8, 0), time(18, 0))
