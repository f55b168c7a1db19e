"""Page cursors shared by both stores: an opaque token for a position in the alert order.

A cursor names the last alert of a page by its ``(detected_at, alert_id)``; the next page
holds the alerts strictly after it in the order (detected_at desc, alert_id desc). A
position, not a snapshot: alerts written or purged meanwhile never make a page skip or
repeat one that was there all along, and the same cursor works on either store.
"""

from __future__ import annotations

import base64
import binascii
import json

from ctc.sinks.stores.records import iso_utc

_VERSION = 1


def encode_cursor(detected_at: str, alert_id: str) -> str:
    """The URL-safe base64 token of the position ``(detected_at, alert_id)``."""
    raw = json.dumps({"v": _VERSION, "d": detected_at, "i": alert_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The ``(detected_at, alert_id)`` of a token from :func:`encode_cursor`; ValueError if
    the token is not one."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        detected_at, alert_id = data["d"], data["i"]
        if data.get("v") != _VERSION or not isinstance(alert_id, str) or not alert_id:
            raise ValueError("bad cursor fields")
        if not isinstance(detected_at, str) or iso_utc(detected_at) != detected_at:
            raise ValueError("bad cursor time")
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error) as exc:
        raise ValueError(f"invalid cursor: {cursor!r}") from exc
    return detected_at, alert_id
