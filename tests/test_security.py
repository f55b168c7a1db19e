"""Spec SQL is untrusted: only expressions over known columns and allow-listed functions compile."""

from __future__ import annotations

import pytest

from ctc.compiler.expressions import FragmentError, Scope, check_fragment, to_sql
from ctc.events import TRADE_EVENT_FIELDS

SCOPE = Scope(dict(TRADE_EVENT_FIELDS), what="test")
AGG = Scope(dict(TRADE_EVENT_FIELDS), aggregates=True, group_columns=frozenset({"symbol"}))

HOSTILE = [
    "reflect('java.lang.Runtime', 'getRuntime')",
    "java_method('java.lang.System', 'exit', 1)",
    "try_reflect('java.lang.Runtime', 'getRuntime')",
    "(SELECT count(*) FROM read_files('/etc/passwd'))",
    "input_file_name()",
    "json.`/etc/passwd`",
    "price IN (SELECT price FROM trades)",
    "1; DROP TABLE trades",
    "(SELECT 1)",
    "transform(array(1), x -> x + 1)",
    "current_user()",
    "regexp_extract(symbol, '(a+)+$', 1)",
    "assert_true(false)",
    "raise_error('x')",
    "uuid()",
    "rand()",
    "some_new_udf(price)",
    "t.price > 1",
    "`timestamp` > now()",
]


@pytest.mark.parametrize("sql", HOSTILE)
def test_hostile_sql_is_rejected(sql: str) -> None:
    with pytest.raises(FragmentError):
        check_fragment(sql, {}, SCOPE)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("quote_volume > params.t", "quote_volume > 100"),
        ("abs(price - 1) / quantity", "TRY_DIVIDE(ABS(price - 1), quantity)"),
        ("exchange = params.ex AND side = 'buy'", "exchange = 'binance' AND side = 'buy'"),
        ("coalesce(price, 0) * 2", "COALESCE(price, 0) * 2"),
    ],
)
def test_allowed_expressions_compile_with_params_inlined(sql: str, expected: str) -> None:
    tree = check_fragment(sql, {"t": 100, "ex": "binance"}, SCOPE)
    assert to_sql(tree) == expected


def test_aggregates_only_where_aggregation_happens() -> None:
    with pytest.raises(FragmentError, match="only allowed in aggregate"):
        check_fragment("sum(price)", {}, SCOPE)
    tree = check_fragment("sum(price * quantity) FILTER (WHERE exchange = 'x')", {}, AGG)
    assert "FILTER" in to_sql(tree)
    with pytest.raises(FragmentError, match="must be inside an aggregate"):
        check_fragment("price + sum(quantity)", {}, AGG)


def test_unknown_column_suggests_the_closest_name() -> None:
    with pytest.raises(FragmentError) as info:
        check_fragment("quote_volum > 1", {}, SCOPE)
    assert "did you mean 'quote_volume'" in info.value.message
    assert (info.value.line, info.value.col) == (1, 1)


def test_nested_divisions_are_all_safe() -> None:
    tree = check_fragment("(price / quantity) / (quote_volume / price)", {}, SCOPE)
    sql = to_sql(tree)
    assert " / " not in sql
    assert sql.count("TRY_DIVIDE") == 3


def test_json_paths_are_allowed_in_get_json_object() -> None:
    scope = Scope({"details": "string"})
    tree = check_fragment("get_json_object(details, '$.z_score')", {}, scope)
    assert to_sql(tree) == "GET_JSON_OBJECT(details, '$.z_score')"


RUNNING = Scope(dict(TRADE_EVENT_FIELDS), running=True, what="running.x")
RANKS = Scope(dict(TRADE_EVENT_FIELDS), ranks=True, what="derive.x")

#: running: and ranks widen what parses (ntile(n, x), desc(x)): nothing else comes with it
HOSTILE_RUNNING_AND_RANKS = [
    (RUNNING, "sum(reflect('java.lang.Runtime', 'getRuntime'))"),
    (RUNNING, "max(price) OVER (ORDER BY price)"),
    (RUNNING, "collect_list(price)"),
    (RUNNING, "percentile_approx(price, 0.5)"),
    (RUNNING, "sum(price) FILTER (WHERE side = 'buy')"),
    (RUNNING, "count(DISTINCT symbol)"),
    (RUNNING, "max(sum(price))"),
    (RUNNING, "sum(nope)"),
    (RANKS, "percent_rank(reflect('java.lang.Runtime', 'getRuntime'))"),
    (RANKS, "rank(desc(input_file_name()))"),
    (RANKS, "ntile(4, (SELECT 1))"),
    (RANKS, "ntile(1000000, price)"),
    (RANKS, "ntile(quantity, price)"),
    (RANKS, "rank(rank(price))"),
    (RANKS, "desc(price)"),
    (RANKS, "cume_dist(price)"),
    (RANKS, "row_number()"),
    (RANKS, "lag(price)"),
    (RANKS, "sum(price)"),
    (SCOPE, "percent_rank(price)"),
    (SCOPE, "ntile(4, price)"),
]


@pytest.mark.parametrize(("scope", "sql"), HOSTILE_RUNNING_AND_RANKS)
def test_running_and_ranks_admit_only_their_own_forms(scope: Scope, sql: str) -> None:
    with pytest.raises(FragmentError):
        check_fragment(sql, {}, scope)


def test_running_and_rank_forms_compile() -> None:
    running = check_fragment("greatest(max(price) - coalesce(min(price), 0), 0)", {}, RUNNING)
    assert to_sql(running) == "GREATEST(MAX(price) - COALESCE(MIN(price), 0), 0)"
    rank = check_fragment("ntile(params.n, desc(price)) + rank(quantity)", {"n": 4}, RANKS)
    assert to_sql(rank) == "NTILE(4, DESC(price)) + RANK(quantity)"
