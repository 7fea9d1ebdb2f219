"""Who a fleet guards after a discovery: listed services always; tagged ones while tagged; and an outage, a
throttled call or a platform without discovery never un-guards a service."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from warden.domain.fleet import DiscoveredService, Discovery, FleetMember, next_membership

APP = [f"arn:aws:apprunner:us-east-1:123456789012:service/app{i}/{i:032x}" for i in range(5)]
ECS = [f"arn:aws:ecs:us-east-1:123456789012:service/prod/svc{i}" for i in range(5)]
GUARD = {"warden:guard": "true"}


def discovery(platform: str, services: dict[str, dict[str, str]], **kwargs: object) -> Discovery:
    return Discovery.model_validate(
        {"platform": platform, "services": [{"arn": a, "tags": t} for a, t in services.items()], **kwargs}
    )


def test_a_tagged_service_joins_and_leaves_when_its_tag_is_removed() -> None:
    # Given one tagged App Runner service and one untagged, When discovered
    first = next_membership([], [discovery("App Runner", {APP[0]: GUARD, APP[1]: {}}), discovery("ECS", {})], [])
    # Then only the tagged one is a member, and it joined
    assert [m.arn for m in first.members] == [APP[0]]
    assert first.added == (APP[0],)
    # When its tag is removed, Then it leaves
    second = next_membership(first.members, [discovery("App Runner", {APP[0]: {}}), discovery("ECS", {})], [])
    assert second.members == ()
    assert [m.arn for m in second.removed] == [APP[0]]


def test_only_warden_tags_are_kept_in_the_record() -> None:
    change = next_membership([], [discovery("App Runner", {APP[0]: {**GUARD, "owner": "x@example.com"}})], [])
    assert change.members[0].tags == GUARD


members_st = st.lists(
    st.builds(
        FleetMember,
        arn=st.sampled_from(APP + ECS),
        tags=st.sampled_from(
            [GUARD, {}, {"warden:guard": "TRUE"}, {"warden:guard": " true"}, {"warden:guard": "false"}]
        ),
        listed=st.booleans(),
    ),
    unique_by=lambda m: m.arn,
    max_size=6,
)
seen_st = st.dictionaries(st.sampled_from(APP + ECS), st.sampled_from([GUARD, {}, {"warden:guard": "no"}]))


@given(
    previous=members_st,
    seen=seen_st,
    listed=st.lists(st.sampled_from(APP + ECS), max_size=3),
    app_complete=st.booleans(),
    ecs_complete=st.booleans(),
    ecs_discovered=st.booleans(),
    unreadable=st.sets(st.sampled_from(APP + ECS), max_size=3),
)
def test_membership_invariants_over_any_discovery(
    previous: list[FleetMember],
    seen: dict[str, dict[str, str]],
    listed: list[str],
    app_complete: bool,
    ecs_complete: bool,
    ecs_discovered: bool,
    unreadable: set[str],
) -> None:
    # Given any previous fleet and any (partial) discovery of both platforms
    discoveries = [
        discovery(
            "App Runner",
            {a: t for a, t in seen.items() if ":apprunner:" in a},
            complete=app_complete,
            unreadable=tuple(a for a in unreadable if ":apprunner:" in a),
        )
    ]
    if ecs_discovered:
        discoveries.append(
            discovery(
                "ECS",
                {a: t for a, t in seen.items() if ":ecs:" in a},
                complete=ecs_complete,
                unreadable=tuple(a for a in unreadable if ":ecs:" in a),
            )
        )
    # When the next membership is computed
    change = next_membership(previous, discoveries, listed)
    members = {m.arn for m in change.members}
    before = {m.arn: m for m in previous}
    complete = {"apprunner"} if app_complete else set()
    complete |= {"ecs"} if ecs_discovered and ecs_complete else set()
    # Then every listed service is a member
    assert set(listed) <= members
    # And a member is listed, or seen tagged and readable, or was a tagged member discovery could not see
    for arn in members:
        service = arn.split(":")[2]
        blind = arn in unreadable or service not in complete
        readable_tagged = (
            arn in seen and arn not in unreadable and DiscoveredService(arn=arn, tags=seen[arn]).guard_tagged
        )
        kept = arn in before and blind and DiscoveredService(arn=arn, tags=before[arn].tags).guard_tagged
        assert arn in listed or readable_tagged or kept
    # And a tagged member discovery could not see (unreadable, incomplete platform, undiscovered platform) stays
    for arn, member in before.items():
        service = arn.split(":")[2]
        blind = arn in unreadable or service not in complete
        if blind and DiscoveredService(arn=arn, tags=member.tags).guard_tagged:
            assert arn in members, f"{arn} was un-guarded by an incomplete discovery"
    # And joined + stayed + left account for everyone exactly once
    assert {m.arn for m in change.removed} == set(before) - members
    assert set(change.added) == members - set(before)
    assert len(change.members) == len(members)
