"""What ``ctc serve`` answers, independent of the HTTP server: the API (``/api/...`` and
the bare paths, through the shared handler) with conditional GETs, and the built
dashboard at ``/``. The server adapter (ctc.serve.server) only moves bytes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from ctc.serve.answer_cache import AnswerCache
from ctc.serve.conditional import conditional, revalidated
from ctc.serve.handler import DEFAULT_APP, Headers, clock_free, handle_json, is_api_path
from ctc.serve.static_files import STATIC_DIR, static_answer
from ctc.sinks.stores.base import AlertStore


@dataclass
class Site:
    """The store, the dashboard folder (None: no dashboard) and the runtime's app name;
    the API answers kept while the store is unchanged (ctc.serve.answer_cache)."""

    store: AlertStore
    static_dir: Path | None = STATIC_DIR
    app: str = DEFAULT_APP
    answers: AnswerCache = field(default_factory=AnswerCache)

    def __post_init__(self) -> None:
        """Resolve the dashboard folder once (the containment check compares with it)."""
        if self.static_dir is not None:
            self.static_dir = self.static_dir.resolve()

    def answer(
        self,
        method: str,
        target: str,
        *,
        if_none_match: str | None = None,
        accept_encoding: str = "",
    ) -> tuple[int, Headers, bytes]:
        """``(status, headers, body)`` for a request line's ``method`` and ``target``
        (path and query, percent-encoded as sent). The body is the full one for HEAD too
        (its length is the Content-Length); the adapter leaves it out."""
        verb = method.upper()
        parts = urlsplit(target)
        path = parts.path or "/"
        if not is_api_path(path):
            return static_answer(verb, path, accept_encoding, self.static_dir)
        token = None
        if verb in ("GET", "HEAD") and clock_free(path):
            token = self.store.change_token()  # read first: a kept answer is never older
        if token is not None:
            kept = self.answers.get(target, token)
            if kept is not None:
                return revalidated(*kept, if_none_match)
        query = dict(parse_qsl(parts.query, keep_blank_values=True, errors="replace"))
        status, headers, data = handle_json(verb, path, query, self.store, app=self.app)
        answer = conditional(verb, status, headers, data, None)
        if token is not None and answer[0] == 200:
            self.answers.put(target, token, answer)
        return revalidated(*answer, if_none_match)
