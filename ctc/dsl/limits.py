"""The resource bounds of a spec, checked at compile time (documented in docs/dsl.md).

A spec is untrusted input: each bound below stops one way a spec could make
``ctc validate`` or a Spark job hang, or run the JVM out of memory.
"""

from __future__ import annotations

#: Largest spec file, in bytes.
MAX_SPEC_BYTES = 256 * 1024
#: Largest SQL fragment or message template, in characters.
MAX_FRAGMENT_CHARS = 4_000
#: Most SQL tokens in one fragment.
MAX_FRAGMENT_TOKENS = 600
#: Deepest nesting of brackets, CASE, NOT and signs in one SQL fragment, as written.
MAX_NESTING = 25
#: Deepest expression tree of one fragment, and of a column once `prepare:`/`derive:`
#: columns it uses are inlined.
MAX_EXPRESSION_DEPTH = 100
#: Most nodes of one expression after `prepare:`/`derive:` columns are inlined into it.
MAX_EXPRESSION_NODES = 5_000
#: Largest whole-number param (and smallest: the negative); Spark's bigint range.
MAX_PARAM_INT = 2**63 - 1
#: Longest text a function may pad to (lpad, rpad) or a format may produce per field
#: (format_string width and precision).
MAX_TEXT_LENGTH = 1_000
#: Most decimal places of round, bround, format_number and the number()/round() filters.
MAX_DECIMALS = 30
#: The text of a message template's ``default("text")`` filter, in characters.
MAX_DEFAULT_TEXT = 200
#: Largest accuracy of percentile_approx (Spark's default is 10000).
MAX_PERCENTILE_ACCURACY = 100_000
#: Smallest relative standard deviation of approx_count_distinct (Spark's default is 0.05).
MIN_APPROX_RSD = 0.01
#: Most buckets of ``ntile(n, x)`` in derive:.
MAX_NTILE_BUCKETS = 1_000
#: Most `%` wildcards in one LIKE / ILIKE pattern (each one multiplies backtracking).
MAX_LIKE_WILDCARDS = 3
#: Most sliding windows one event falls into (window.size / window.slide).
MAX_WINDOWS_PER_EVENT = 100
#: Most windows kept per key: open windows ((size + watermark) / slide) and a
#: baseline's earlier windows (baseline.lookback / slide).
MAX_WINDOWS_PER_KEY = 10_000
#: Longest lookup distance (lookups.*.within), in seconds: one day.
MAX_LOOKUP_WITHIN_SECONDS = 86_400
