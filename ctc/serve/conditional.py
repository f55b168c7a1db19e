"""Conditional GETs of the API: an ``ETag`` on every 200 answer to GET or HEAD, and 304
Not Modified when the request's ``If-None-Match`` names it, so a poll of unchanged data
costs a few header bytes. The tag is a hash of the body, so it changes exactly when the
answer does, in any process and after a restart. ``Cache-Control: no-cache`` lets a
browser keep the answer and revalidate it on every request."""

from __future__ import annotations

import hashlib

from ctc.serve.handler import Headers

#: Headers a 304 keeps from the 200 it stands for (RFC 9110 §15.4.5, plus CORS).
_KEPT_ON_304 = ("Cache-Control", "ETag", "Vary", "Access-Control-Allow-Origin")


def etag_of(body: bytes) -> str:
    """The strong entity tag of a body: ``"<24 hex digits of its BLAKE2b>"``."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def none_match(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header value names ``etag`` (weak comparison: ``W/``
    prefixes are ignored; ``*`` matches any)."""
    if not if_none_match:
        return False
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


def conditional(
    method: str, status: int, headers: Headers, body: bytes, if_none_match: str | None
) -> tuple[int, Headers, bytes]:
    """A 200 answer to GET or HEAD with its ``ETag`` (and ``Cache-Control: no-cache``), or
    a bodiless 304 when ``if_none_match`` names that tag; other answers unchanged."""
    if status != 200 or method not in ("GET", "HEAD"):
        return status, headers, body
    tagged = {**headers, "ETag": etag_of(body), "Cache-Control": "no-cache"}
    return revalidated(200, tagged, body, if_none_match)


def revalidated(
    status: int, headers: Headers, body: bytes, if_none_match: str | None
) -> tuple[int, Headers, bytes]:
    """A tagged 200 answer (``conditional``'s), or its bodiless 304 when
    ``if_none_match`` names its tag; other answers unchanged."""
    tag = headers.get("ETag")
    if status == 200 and tag is not None and none_match(if_none_match, tag):
        return 304, {k: v for k, v in headers.items() if k in _KEPT_ON_304}, b""
    return status, headers, body
