"""Elastic Load Balancing: which load balancer a target group belongs to (a fleet service tagged
`warden:target-group`). Read-only; its alarms and its alarm identity need the load balancer's metric dimension."""

from __future__ import annotations

from typing import TYPE_CHECKING

from warden.adapters.clients import client

if TYPE_CHECKING:
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client

# DescribeTargetGroups supports no resource-level permissions: it is granted on "*" (read-only).
IAM_ACTIONS = frozenset({"elasticloadbalancing:DescribeTargetGroups"})


class TargetGroups:
    def __init__(self, elbv2: ElasticLoadBalancingv2Client | None = None) -> None:
        self._client = elbv2

    @property
    def _elbv2(self) -> ElasticLoadBalancingv2Client:
        if self._client is None:
            self._client = client("elbv2")
        return self._client

    def load_balancer_of(self, target_group_arn: str) -> str | None:
        """The first load balancer the target group is attached to, or None. Raises the client's error when the
        target group cannot be read (the caller leaves the load balancer unknown)."""
        groups = self._elbv2.describe_target_groups(TargetGroupArns=[target_group_arn])["TargetGroups"]
        arns = groups[0].get("LoadBalancerArns", []) if groups else []
        return arns[0] if arns else None
