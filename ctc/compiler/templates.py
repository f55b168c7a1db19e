"""Compile an alert's Jinja message template into one Spark SQL string expression.

Messages are rendered by Spark, row by row, identically in streaming and batch.
Only a safe subset of Jinja compiles: literal text, ``{{ column }}``,
``{{ params.name }}`` and the filters below (``default("text")`` takes a string, the
others whole numbers). Anything else (statements, calls,
attribute access) is an error, so a template can't run code.
"""

from __future__ import annotations

from collections.abc import Mapping

import jinja2
from jinja2 import nodes
from sqlglot import exp

from ctc.compiler.fragments.parse import tree_depth
from ctc.compiler.fragments.positions import FragmentError, suggest
from ctc.compiler.fragments.rewrite import param_literal
from ctc.dsl.limits import MAX_DECIMALS, MAX_DEFAULT_TEXT, MAX_EXPRESSION_DEPTH, MAX_FRAGMENT_CHARS
from ctc.dsl.model import ParamValue

#: filter name → (number of arguments allowed: whole numbers, but a text for default; description)
FILTERS: dict[str, tuple[int, str]] = {
    "round": (1, "round(n): the number rounded to n decimals"),
    "number": (1, "number(n): with thousands separators and n decimals, e.g. 1,234,567.89"),
    "abs": (0, "abs: the absolute value"),
    "upper": (0, "upper: upper case"),
    "lower": (0, "lower: lower case"),
    "default": (1, 'default("text"): the text instead of a NULL value (else NULL renders as null)'),
}

_ENV = jinja2.Environment(autoescape=False)


def _default_text(node: nodes.Filter, line: int) -> str:
    """The one string argument of a ``default`` filter, checked."""
    text = (
        node.args[0].value if len(node.args) == 1 and isinstance(node.args[0], nodes.Const) else 0
    )
    if not isinstance(text, str):
        raise FragmentError(
            line, 1, """filter 'default' takes one quoted text, e.g. default("none")"""
        )
    if len(text) > MAX_DEFAULT_TEXT:
        raise FragmentError(
            line, 1, f"filter 'default' takes a text of at most {MAX_DEFAULT_TEXT} characters"
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise FragmentError(line, 1, "filter 'default' takes a text without control characters")
    return text


def _filter(name: str, arg: exp.Expr, args: list[int], line: int) -> exp.Expr:
    if name not in FILTERS:
        raise FragmentError(
            line,
            1,
            f"unknown template filter '{name}'{suggest(name, list(FILTERS))}"
            f"; allowed: {', '.join(FILTERS)}",
        )
    if len(args) > FILTERS[name][0]:
        raise FragmentError(line, 1, f"filter '{name}' takes {FILTERS[name][0]} argument(s)")
    if any(not 0 <= a <= MAX_DECIMALS for a in args):
        raise FragmentError(
            line, 1, f"filter '{name}' takes a number of decimals from 0 to {MAX_DECIMALS}"
        )
    if name == "round":
        digits = args[0] if args else 0
        return exp.Round(this=arg, decimals=exp.Literal.number(digits))
    if name == "number":
        digits = args[0] if args else 0
        return exp.Anonymous(this="FORMAT_NUMBER", expressions=[arg, exp.Literal.number(digits)])
    if name == "abs":
        return exp.Abs(this=arg)
    if name == "upper":
        return exp.Upper(this=arg)
    return exp.Lower(this=arg)


def _value(
    node: nodes.Expr, columns: Mapping[str, str], params: Mapping[str, ParamValue]
) -> exp.Expr:
    line = node.lineno
    if isinstance(node, nodes.Name):
        if node.name not in columns:
            raise FragmentError(
                line,
                1,
                f"unknown column '{node.name}' in the message template"
                f"{suggest(node.name, sorted(columns))}",
            )
        return exp.column(node.name)
    if (
        isinstance(node, nodes.Getattr)
        and isinstance(node.node, nodes.Name)
        and node.node.name == "params"
    ):
        if node.attr not in params:
            raise FragmentError(
                line,
                1,
                f"unknown param '{node.attr}' in the message template"
                f"{suggest(node.attr, sorted(params))}",
            )
        return param_literal(params[node.attr])
    if isinstance(node, nodes.Filter) and (node.kwargs or node.dyn_args or node.dyn_kwargs):
        raise FragmentError(line, 1, f"filter '{node.name}' takes no keyword arguments")
    if isinstance(node, nodes.Filter) and node.node is not None and node.name == "default":
        text = _default_text(node, line)
        as_text = exp.Cast(this=_value(node.node, columns, params), to=exp.DataType.build("string"))
        return exp.Coalesce(this=as_text, expressions=[exp.Literal.string(text)])
    if isinstance(node, nodes.Filter) and node.node is not None:
        args = []
        for a in node.args:
            if not isinstance(a, nodes.Const) or not isinstance(a.value, int):
                raise FragmentError(line, 1, f"filter '{node.name}' takes whole-number arguments")
            args.append(int(a.value))
        inner = _value(node.node, columns, params)
        if _is_default(inner) and node.name in ("round", "number", "abs"):
            raise FragmentError(
                line, 1, f"filter '{node.name}' after 'default': put default(...) last"
            )
        return _filter(node.name, inner, args, line)
    raise FragmentError(
        line,
        1,
        "a template may only use {{ column }}, {{ params.name }} and "
        "filters (" + ", ".join(FILTERS) + ")",
    )


def compile_template(
    text: str, columns: Mapping[str, str], params: Mapping[str, ParamValue]
) -> exp.Expr:
    """The SQL expression that renders ``text`` for a row; NULL values render as 'null'."""
    if len(text) > MAX_FRAGMENT_CHARS:
        raise FragmentError(
            1, 1, f"message template too long: more than {MAX_FRAGMENT_CHARS} characters"
        )
    try:
        tree = _ENV.parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise FragmentError(exc.lineno or 1, 1, f"template syntax error: {exc.message}") from exc
    except RecursionError as exc:  # Jinja's parser recurses once per bracket
        raise FragmentError(1, 1, "message template nested too deeply") from exc
    except jinja2.TemplateError as exc:
        raise FragmentError(1, 1, f"template error: {exc.message or exc}") from exc
    try:
        result = _render(tree, columns, params)
    except RecursionError as exc:
        raise FragmentError(1, 1, "message template nested too deeply") from exc
    if tree_depth(result) > MAX_EXPRESSION_DEPTH:
        raise FragmentError(
            1, 1, f"message template nested too deeply: more than {MAX_EXPRESSION_DEPTH} levels"
        )
    return result


def _is_default(value: exp.Expr) -> bool:
    """Whether ``value`` is what the ``default`` filter makes (a text, never NULL)."""
    return (
        isinstance(value, exp.Coalesce)
        and len(value.expressions) == 1
        and isinstance(value.expressions[0], exp.Literal)
        and value.expressions[0].is_string
    )


def _render(
    tree: nodes.Template, columns: Mapping[str, str], params: Mapping[str, ParamValue]
) -> exp.Expr:
    parts: list[exp.Expr] = []
    for out in tree.body:
        if not isinstance(out, nodes.Output):
            raise FragmentError(out.lineno, 1, "template statements ({% ... %}) are not allowed")
        for item in out.nodes:
            if isinstance(item, nodes.TemplateData):
                if item.data:
                    parts.append(exp.Literal.string(item.data))
                continue
            value = _value(item, columns, params)
            if _is_default(value):  # text already, never NULL
                parts.append(value)
                continue
            as_text = exp.Cast(this=value, to=exp.DataType.build("string"))
            parts.append(exp.Coalesce(this=as_text, expressions=[exp.Literal.string("null")]))
    if not parts:
        return exp.Literal.string("")
    if len(parts) == 1:
        return parts[0]
    return exp.Concat(expressions=parts)
