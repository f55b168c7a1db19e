"""API answers kept while the store is unchanged: a dashboard's poll of data that did not
change is a dictionary look-up, not a query, a JSON encoding and a hash.

An answer is kept per request target (path and query as sent) with the store's change
token read before it was computed (``AlertStore.change_token``); it is served again only
while the token is the same, so it is never older than the data. Only 200 answers of
endpoints that depend on no clock (``ctc.serve.handler.clock_free``) are kept, and only
from stores that have a token (SQLite; DynamoDB has none). Each server process keeps its
own, at most ``MAX_ANSWERS`` of them.
"""

from __future__ import annotations

from collections.abc import Hashable

from ctc.serve.handler import Headers

#: Answers kept per process (a full cache is emptied: arbitrary queries cannot grow it).
MAX_ANSWERS = 256

Answer = tuple[int, Headers, bytes]


class AnswerCache:
    """Tagged 200 answers by request target, each with the change token it was made at."""

    def __init__(self, max_answers: int = MAX_ANSWERS) -> None:
        """An empty cache of at most ``max_answers`` answers."""
        self.max_answers = max_answers
        self._kept: dict[str, tuple[Hashable, Answer]] = {}

    def get(self, target: str, token: Hashable) -> Answer | None:
        """The answer kept for ``target`` at ``token``, or None."""
        kept = self._kept.get(target)
        return kept[1] if kept is not None and kept[0] == token else None

    def put(self, target: str, token: Hashable, answer: Answer) -> None:
        """Keep ``answer`` (a tagged 200) for ``target``, made at ``token``."""
        if len(self._kept) >= self.max_answers and target not in self._kept:
            self._kept.clear()
        self._kept[target] = (token, answer)
