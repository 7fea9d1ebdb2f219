"""What the payload models share: field types for AWS's JSON, and one short reason out of pydantic's errors.

Strings are validated in Python, never with pydantic's string constraints (`min_length`, `max_length`,
`pattern`): pydantic-core reads a constrained string as UTF-8, and a JSON `"\\ud800"` escape decodes to a lone
surrogate that is not, so a constrained field would refuse text an unconstrained one keeps. Warden keeps such
text (the notification replaces the surrogate) and refuses it only where it becomes a key (an alarm's name).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Final

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

# The AWS APIs' `integer` is 32-bit: no count or period CloudWatch sends is larger.
MAX_INTEGER: Final = 2**31 - 1


def excerpt(text: str, limit: int = 60) -> str:
    """`text`, cut short for a reason an operator reads (a hostile message can be 256 KB)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_json(value: object) -> str:
    """What a JSON value is, in JSON's words: null, a boolean, a number, a string, a list, an object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def problem(text: str) -> PydanticCustomError:
    """A validator's own problem, worded after the field's path ("is empty", "[3] has no Value")."""
    # pydantic-core keeps the text as UTF-8: a lone surrogate in it would raise out of the validation.
    return PydanticCustomError("warden", text.encode("utf-8", "backslashreplace").decode("utf-8"))


def shown(value: object) -> str:
    """A scalar as an operator reads it, cut short; anything larger only by its kind (never the whole input)."""
    if value is None or isinstance(value, str | bool | float) or (isinstance(value, int) and value.bit_length() < 256):
        return excerpt(repr(value))
    return describe_json(value)


def refusal(error: ValidationError, root: str = "") -> str:
    """The first problem pydantic found, as "<path> <problem>": the field by its JSON path, and of the input
    only a short excerpt of a scalar (never the whole input)."""
    detail = error.errors(include_url=False)[0]
    path = _path(root, detail["loc"])
    return f"{path}{_problem(detail)}" if path else _problem(detail).lstrip()


def _path(root: str, loc: Sequence[int | str]) -> str:
    path = root
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


def _problem(detail: ErrorDetails) -> str:
    kind, value = detail["type"], detail["input"]
    match kind:
        case "warden":
            return detail["msg"] if detail["msg"].startswith("[") else f" {detail['msg']}"
        case "missing":
            return " is missing"
        case "model_type" | "model_attributes_type" | "dict_type":
            return f" is {describe_json(value)}, not an object"
        case "list_type" | "tuple_type":
            return f" is {describe_json(value)}, not a list"
        case "string_type":
            return f" is {describe_json(value)}, not a string"
        case "string_unicode":  # a lone surrogate where text must be UTF-8
            return f" {shown(value)} is not valid UTF-8"
        case "bool_type" | "bool_parsing":
            return f" is {shown(value)}, not true or false"
        case "float_type" | "float_parsing":
            return f" is {shown(value)}, not a number"
        case "finite_number":
            return f" is {shown(value)}, not a finite number"
        case "int_type" | "int_parsing" | "int_parsing_size" | "int_from_float":
            return f" is {shown(value)}, not a whole number"
        case "greater_than_equal" | "less_than_equal":
            return f" is {shown(value)}, not between 1 and {MAX_INTEGER:,}"
        case "enum":  # a state: "not OK, ALARM or INSUFFICIENT_DATA"
            return f" is {shown(value)}, not {str(detail.get('ctx', {}).get('expected', '')).replace(chr(39), '')}"
        case "literal_error":  # a fixed string: "not 'aws:sns'"
            return f" is {shown(value)}, not {detail.get('ctx', {}).get('expected', '')}"
    return f" is {describe_json(value)}: {detail['msg']}"


# --- field types -----------------------------------------------------------------------------------


def _no_bool(value: object) -> object:
    # pydantic's lax numbers take true as 1; JSON's true is no number.
    if isinstance(value, bool):
        raise problem(f"is {value!r}, not a number")
    return value


def _non_empty(value: str) -> str:
    if not value:
        raise problem("is empty")
    return value


def _empty_is_none(value: object) -> object:
    return None if value == "" else value


def _moment(value: object) -> datetime:
    """An ISO 8601 date and time as AWS writes it ("...Z", "...+0000": Python 3.11+ reads both); UTC when naive."""
    if value == "":
        raise problem("is empty")
    if not isinstance(value, str):
        raise problem(f"is {describe_json(value)}, not a timestamp")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise problem(f"{shown(value)} is not an ISO 8601 date and time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def finite_or_none(value: object) -> float | None:
    """A number, or a number written as text, if it is finite; else None (for fields read leniently)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _count_or_none(value: object) -> int | None:
    number = finite_or_none(value)
    return int(number) if number is not None and number.is_integer() and 1 <= number <= MAX_INTEGER else None


NonEmptyText = Annotated[str, AfterValidator(_non_empty)]
OptionalText = Annotated[str | None, BeforeValidator(_empty_is_none)]
"""A string, with "" read as absent."""
Moment = Annotated[datetime, BeforeValidator(_moment)]
Finite = Annotated[float, BeforeValidator(_no_bool), Field(allow_inf_nan=False)]
"""A finite number (JSON has no other; Python's json reads NaN, Infinity and 1e999 as floats), or its text."""
Count = Annotated[int, BeforeValidator(_no_bool), Field(ge=1, le=MAX_INTEGER)]
"""A whole number as the AWS APIs take it: 1 to 2,147,483,647."""
LenientCount = Annotated[int | None, BeforeValidator(_count_or_none)]
"""A `Count` where AWS sends one, None for anything else (for fields nothing depends on)."""
LenientText = Annotated[str | None, BeforeValidator(lambda value: value if isinstance(value, str) and value else None)]
"""A non-empty string, None for anything else."""
