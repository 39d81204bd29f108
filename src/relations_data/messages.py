"""How messages show untrusted text: quoted with a length cap, credentials redacted.

A message may quote a header, a cell, a file name or a URL that came from a file or the
environment. A 200 MB header must not become a 200 MB error line, and the token in
``https://user:token@mirror/`` must never reach a log or a terminal.
"""

from __future__ import annotations

import re

#: Most characters of one untrusted value a message quotes.
MAX_QUOTED_CHARS = 200
# scheme://userinfo@ — the userinfo part (user, or user:password) is what is hidden.
_CREDENTIALS = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/@\s:]*)(?::[^/@\s]*)?@"
)


def quoted(value: object, limit: int = MAX_QUOTED_CHARS) -> str:
    """``repr`` of ``value`` cut to about ``limit`` characters, saying how long it was."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text)} characters)"


def redact(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced by ``***``.

    Examples
    --------
    >>> redact("https://me:secret@example.org/x")
    'https://***@example.org/x'
    """
    return _CREDENTIALS.sub(lambda m: f"{m['scheme']}***@", text)
