"""The stack a set of parameter values deploys: the template's conditions evaluated, its `Fn::If`s chosen.

Tests ask what exists and what is granted for given parameters rather than which condition a resource names, so
that they hold however the template is split into nested applications (whose conditions `local.template.load_stack`
renames and joins with the application's).
"""

from __future__ import annotations

import re
from typing import Any

from local.template import function_statements

APPRUNNER_ARN = "arn:aws:apprunner:us-east-1:123456789012:service/consultation-app/0123456789abcdef0123456789abcdef"
ECS_ARN = "arn:aws:ecs:us-east-1:123456789012:service/prod/consultation-app"
LOAD_BALANCER_ARN = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/consultation-app/50dc6c495c0c9188"
)
TARGET_GROUP_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/consultation-app/73e2d6bc24d8a067"
NO_VALUE = {"Ref": "AWS::NoValue"}
# ${Name} in an Fn::Sub string (not ${!Literal}); a parameter or pseudo parameter of `Stack.parameters`.
SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class Stack:
    """The template's conditions evaluated for some parameter values (defaults for the others)."""

    def __init__(self, template: dict[str, Any], region: str = "us-east-1", **parameters: str) -> None:
        self.template = template
        defaults = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
        self.parameters = {
            **defaults,
            "ServiceArn": APPRUNNER_ARN,
            "BudgetName": "app-monthly",
            "AWS::Region": region,
            **parameters,
        }

    def value(self, node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((function, argument),) = node.items()
            if function == "Ref":
                return self.parameters[argument]
            if function == "Condition":
                return self.condition(argument)
            if function == "Fn::Equals":
                return str(self.value(argument[0])) == str(self.value(argument[1]))
            if function == "Fn::Not":
                return not self.value(argument[0])
            if function == "Fn::And":
                return all(self.value(item) for item in argument)
            if function == "Fn::Or":
                return any(self.value(item) for item in argument)
            if function == "Fn::Split":
                return str(self.value(argument[1])).split(argument[0])
            if function == "Fn::Select":
                return self.value(argument[1])[int(argument[0])]
            if function == "Fn::Sub" and isinstance(argument, str):
                return SUB_VARIABLE.sub(lambda match: str(self.parameters[match.group(1)]), argument)
            if function == "Fn::If":
                condition, when_true, when_false = argument
                return self.value(when_true if self.condition(condition) else when_false)
        return node

    def condition(self, name: str) -> bool:
        return bool(self.value(self.template["Conditions"][name]))

    def resources(self) -> set[str]:
        return {
            logical_id
            for logical_id, resource in self.template["Resources"].items()
            if "Condition" not in resource or self.condition(resource["Condition"])
        }

    def chosen(self, node: Any) -> Any:
        """`node` with every `Fn::If` replaced by its chosen branch (lists drop `AWS::NoValue` items)."""
        if isinstance(node, dict) and list(node) == ["Fn::If"]:
            condition, when_true, when_false = node["Fn::If"]
            return self.chosen(when_true if self.condition(condition) else when_false)
        if isinstance(node, dict):
            return {key: self.chosen(value) for key, value in node.items() if self.chosen(value) != NO_VALUE}
        if isinstance(node, list):
            return [chosen for chosen in (self.chosen(item) for item in node) if chosen != NO_VALUE]
        return node

    def statements(self, written: list[Any]) -> list[dict[str, Any]]:
        """Policy statements as deployed: each `Fn::If` resolved, `AWS::NoValue` dropped."""
        deployed: list[dict[str, Any]] = self.chosen(written)
        return deployed

    def granted(self, function: str) -> dict[str, dict[str, Any]]:
        """A function's statements as deployed (inline and from the stack's managed policies), by Sid."""
        return {
            statement["Sid"]: statement for statement in self.statements(function_statements(self.template, function))
        }
