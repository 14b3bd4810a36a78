"""The HTTP service's logging: uvicorn's own configuration, with secrets kept out of the access log.

Keys are only accepted in the `Authorization` header, which uvicorn never logs; but a client that
puts one in the query string (`?api_key=jmk_…`) is refused and would still have the full key
written to the access log. The filter here rewrites the logged path first: any `jmk_…` token,
and the value of any query parameter whose name says key, token, secret, password or auth.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

REDACTED = "[redacted]"
_KEY_LIKE = re.compile(r"jmk(?:_|%5f)[^\s&;#\"']*", re.I)
_SECRET_PARAM = re.compile(r"((?:^|[?&;])[^=&;#\s]*(?:key|token|secret|passw|auth)[^=&;#\s]*=)[^&;#\s\"]*", re.I)


def redact(text: str) -> str:
    """`text` (a logged request line or path) with key-like values replaced."""
    return _SECRET_PARAM.sub(lambda m: m.group(1) + REDACTED, _KEY_LIKE.sub(REDACTED, text))


class RedactSecrets(logging.Filter):
    """Applies `redact` to every string argument of a record (uvicorn's access log passes the
    path with its query string as one), and to the message itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration, with `RedactSecrets` on both of its handlers."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": RedactSecrets}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_secrets")
    return config
