"""Read `template.yaml` the way CloudFormation does, so tests and local tools build from the same source.

`load_template` turns the YAML short-form intrinsics (`!Ref`, `!Sub`, `!GetAtt`, ...) into their long
forms (`{"Ref": ...}`, `{"Fn::Sub": ...}`, `{"Fn::GetAtt": [resource, attribute]}`), which is what
CloudFormation and SAM see. `compose_template` keeps the YAML node tree with line numbers, for checks
that need to point at (or read comments on) a source line. The `state_table_*` helpers give what a
local tool needs to create the very table the stack creates.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Final

import yaml

__all__ = [
    "ROOT",
    "STATE_TABLE_LOGICAL_ID",
    "TEMPLATE_PATH",
    "compose_template",
    "compose_text",
    "load_template",
    "load_text",
    "resources_of_type",
    "state_table_create_kwargs",
    "state_table_ttl_attribute",
]

ROOT: Final[Path] = Path(__file__).resolve().parent.parent
TEMPLATE_PATH: Final[Path] = ROOT / "template.yaml"
STATE_TABLE_LOGICAL_ID: Final[str] = "StateTable"

# Short tag -> long-form key. `!Ref` and `!Condition` keep their names; the others take the `Fn::` prefix.
_INTRINSICS: Final[dict[str, str]] = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "And",
            "Base64",
            "Cidr",
            "Equals",
            "FindInMap",
            "GetAtt",
            "GetAZs",
            "If",
            "ImportValue",
            "Join",
            "Length",
            "Not",
            "Or",
            "Select",
            "Split",
            "Sub",
            "ToJsonString",
            "Transform",
        )
    },
}


class _CfnLoader(yaml.SafeLoader):
    """A safe loader that knows CloudFormation's short tags and rejects duplicate keys.

    Like CloudFormation, it leaves dates as strings (`Version: 2012-10-17` stays a string).
    """

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, re.Pattern[str]]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def _construct_intrinsic(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    long_name = _INTRINSICS.get(suffix)
    if long_name is None:
        raise yaml.constructor.ConstructorError(None, None, f"unknown CloudFormation tag !{suffix}", node.start_mark)
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            resource, _, attribute = str(value).partition(".")
            value = [resource, attribute]
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {long_name: value}


_CfnLoader.add_multi_constructor("!", _construct_intrinsic)


def load_text(text: str) -> dict[str, Any]:
    """Parse template text into plain data with long-form intrinsics."""
    data = yaml.load(text, Loader=_CfnLoader)  # a SafeLoader subclass
    if not isinstance(data, dict):
        raise ValueError("a CloudFormation template must be a mapping at the top level")
    return data


def load_template(path: Path | None = None) -> dict[str, Any]:
    """Load `template.yaml` (or `path`) with the short tags turned into their long forms."""
    return load_text((path or TEMPLATE_PATH).read_text(encoding="utf-8"))


def compose_text(text: str) -> yaml.Node:
    """The YAML node tree of template text; every node carries `start_mark.line` (0-based)."""
    node = yaml.compose(text, Loader=_CfnLoader)
    if node is None:
        raise ValueError("the template is empty")
    return node


def compose_template(path: Path | None = None) -> yaml.Node:
    """The YAML node tree of `template.yaml` (or `path`), with line numbers, tags left unconstructed."""
    return compose_text((path or TEMPLATE_PATH).read_text(encoding="utf-8"))


def resources_of_type(template: Mapping[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Every resource of `resource_type`, by logical id."""
    resources: Mapping[str, Any] = template.get("Resources", {})
    return {
        logical_id: resource
        for logical_id, resource in resources.items()
        if isinstance(resource, dict) and resource.get("Type") == resource_type
    }


def _state_table_properties(template: Mapping[str, Any]) -> dict[str, Any]:
    resource = template.get("Resources", {}).get(STATE_TABLE_LOGICAL_ID)
    if not isinstance(resource, dict) or resource.get("Type") != "AWS::DynamoDB::Table":
        raise ValueError(f"the template has no AWS::DynamoDB::Table named {STATE_TABLE_LOGICAL_ID}")
    properties = resource.get("Properties", {})
    if not isinstance(properties, dict):
        raise ValueError(f"{STATE_TABLE_LOGICAL_ID}.Properties must be a mapping")
    return properties


def _literal(value: Any, where: str) -> Any:
    """`value` unchanged if it holds no intrinsic function, else a ValueError naming `where`."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" or key == "Condition" or str(key).startswith("Fn::"):
                raise ValueError(f"{where} must be literal to be created locally, found {key}")
            _literal(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _literal(item, f"{where}[{index}]")
    return copy.deepcopy(value)


_INDEX_KEYS: Final[tuple[str, ...]] = ("IndexName", "KeySchema", "Projection")


def state_table_create_kwargs(template: Mapping[str, Any], table_name: str) -> dict[str, Any]:
    """Keyword arguments for boto3's `dynamodb.create_table` that recreate the stack's state table.

    KeySchema, AttributeDefinitions and BillingMode are copied from the template (and indexes and
    provisioned throughput, should the template ever declare them).
    """
    properties = _state_table_properties(template)
    where = f"{STATE_TABLE_LOGICAL_ID}.Properties"
    billing_mode = _literal(properties.get("BillingMode", "PROVISIONED"), f"{where}.BillingMode")
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": _literal(properties["KeySchema"], f"{where}.KeySchema"),
        "AttributeDefinitions": _literal(properties["AttributeDefinitions"], f"{where}.AttributeDefinitions"),
        "BillingMode": billing_mode,
    }
    if billing_mode == "PROVISIONED":
        kwargs["ProvisionedThroughput"] = _literal(
            properties["ProvisionedThroughput"], f"{where}.ProvisionedThroughput"
        )
    for index_kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        indexes = properties.get(index_kind)
        if not indexes:
            continue
        converted = []
        for position, index in enumerate(_literal(indexes, f"{where}.{index_kind}")):
            entry = {key: index[key] for key in _INDEX_KEYS if key in index}
            if index_kind == "GlobalSecondaryIndexes" and billing_mode == "PROVISIONED":
                if "ProvisionedThroughput" not in index:
                    raise ValueError(f"{where}.{index_kind}[{position}] needs ProvisionedThroughput")
                entry["ProvisionedThroughput"] = index["ProvisionedThroughput"]
            converted.append(entry)
        kwargs[index_kind] = converted
    return kwargs


_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")


def state_table_ttl_attribute(template: Mapping[str, Any]) -> str:
    """The name of the state table's enabled time-to-live attribute (epoch seconds)."""
    properties = _state_table_properties(template)
    ttl = properties.get("TimeToLiveSpecification")
    if not isinstance(ttl, dict) or ttl.get("Enabled") is not True:
        raise ValueError(f"{STATE_TABLE_LOGICAL_ID} has no enabled TimeToLiveSpecification")
    name = ttl.get("AttributeName")
    if not isinstance(name, str) or not _ATTRIBUTE_NAME.match(name):
        raise ValueError(f"{STATE_TABLE_LOGICAL_ID} TTL AttributeName must be a literal name, got {name!r}")
    return name
