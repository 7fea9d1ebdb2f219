"""No secret leaves Warden: what looks like a credential is masked in every notification and log line.

Warden quotes text it did not write: a forwarded message verbatim, an alarm's description, CloudWatch's reason,
an error message. Any of them can carry a secret by mistake (an API key pasted into an alarm description, a
token inside a budget alert that a test sent). `redact` masks, before anything is published or logged:
- access key ids (AKIA..., ASIA...), shown only as `…` and their last four characters, as everywhere in Warden;
- the secret-key formats of the services an app on App Runner typically holds (Stripe/Clerk `sk_live_...`,
  OpenAI `sk-...`, GitHub, Slack), JSON Web Tokens and PEM private keys;
- the value after a label that names a secret (`password=...`, `"api_key": "..."`, `AWS_SECRET_ACCESS_KEY=...`);
- exact values the caller knows to be secret (`secret_values` picks them from an environment: a variable whose
  name says SECRET, TOKEN, PASSWORD, API_KEY, PRIVATE_KEY or CREDENTIAL).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

MASK: Final = "[redacted]"
# No word boundary: `\b` treats `_` and letters as part of the word, so `AKIAIOSFODNN7EXAMPLE_old` or a key id
# glued to a name was left whole. Any run of the prefix and 12+ upper-case letters or digits is masked, wherever
# it sits; the bounded length keeps it linear.
_KEY_ID: Final = re.compile(r"(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA)[A-Z0-9]{12,124}")
# Every pattern runs in linear time on hostile text (a forwarded message can be 256 KB of anything): a token
# pattern starts only where a run of token characters starts (the lookbehind), never inside one, so no run is
# scanned twice; bounded classes stay bounded.
_START: Final = r"(?<![A-Za-z0-9_-])"
# Where a token with a distinctive prefix may start: also right after `_` or `-` (`OLD_sk_live_...`, an env dump),
# but not inside a word (`task-runner-...` holds no OpenAI key). Linear all the same: these patterns either
# fail within one `_`-free segment or match the whole run, so no run is scanned twice.
_AFTER_WORD: Final = r"(?<![A-Za-z0-9])"
_SECRET_FORMATS: Final = re.compile(
    "|".join(
        (
            _AFTER_WORD + r"[rs]k_(?:live|test)_[A-Za-z0-9]{8,}",  # Stripe, Clerk secret and restricted keys
            _AFTER_WORD + r"sk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{16,}",  # OpenAI, Anthropic
            _AFTER_WORD + r"(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})",  # GitHub tokens
            _AFTER_WORD + r"xox[abposr]-[A-Za-z0-9-]{10,}",  # Slack tokens
            _START + r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # JSON Web Tokens
            r"-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----.*?(?:-----END [A-Z ]{0,40}PRIVATE KEY-----|\Z)",  # PEM keys
        )
    ),
    re.DOTALL,
)
# A label that ends in a word naming a secret (`password`, `CLERK_SECRET_KEY`, `"api_key"`), then ":" or "=",
# then the value (quotes, JSON escapes and separators end it). Only the value is replaced.
_LABEL_WORDS: Final = (
    r"(?:secret(?:[_-]?key)?|password|passwd|pwd|token|api[_-]?key|private[_-]?key|access[_-]?key|credentials?)"
)
_SEPARATOR: Final = r"\\?[\"']?[ \t]{0,8}[:=][ \t]{0,8}\\?[\"']?"
_LABELLED: Final = re.compile(rf"(?i)({_LABEL_WORDS}{_SEPARATOR})([^\s\"'\\,;&]{{4,}})")
_SECRET_NAME: Final = re.compile(rf"(?i){_LABEL_WORDS}")
_MIN_KNOWN_LENGTH: Final = 8


def key_suffix(access_key_id: str) -> str:
    """The only form in which a key id is shown: `…` and its last four characters."""
    return "…" + access_key_id[-4:]


def redact(text: str, known: Iterable[str] = ()) -> str:
    """`text` with every secret-looking string masked (see the module doc); `known` are exact secret values."""
    for value in sorted((value for value in known if len(value) >= _MIN_KNOWN_LENGTH), key=len, reverse=True):
        text = text.replace(value, MASK)
    text = _SECRET_FORMATS.sub(MASK, text)
    text = _LABELLED.sub(lambda found: found.group(1) + MASK, text)
    return _KEY_ID.sub(lambda found: key_suffix(found.group(0)), text)


def secret_values(environ: Mapping[str, str]) -> frozenset[str]:
    """Values of the variables whose names say they hold a secret (CLERK_SECRET_KEY, AWS_SESSION_TOKEN, ...)."""
    return frozenset(
        value
        for name, value in environ.items()
        if _SECRET_NAME.search(name) and len(value) >= _MIN_KNOWN_LENGTH and not value.isdigit()
    )
