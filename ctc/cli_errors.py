"""How a ``ctc`` command reports failure: one line on stderr and an exit status, never a
traceback unless ``ctc --verbose``."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn, TypeVar

import click

from ctc.dsl.errors import SpecErrors, escape_controls
from ctc.dsl.errors import verbose as is_verbose
from ctc.plural import plural

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, status: int = 1) -> NoReturn:
    """Print ``ctc: error: message`` as one line (control characters escaped); exit
    ``status``. A progress line on the terminal is erased first."""
    from ctc.progress import close_all

    close_all()
    click.echo(f"ctc: error: {escape_controls(message.strip())[:2000]}", err=True)
    sys.exit(status)


#: "[ERROR_CLASS] message" or "org.apache.…Exception: message" in a Java error's text.
_JAVA_LINE = re.compile(r"(?:^|: )((?:\[[A-Z][A-Z0-9_.]+\]|[\w$.]+(?:Exception|Error): ).*)")


#: "package.module.SomeError: message", the line that ends a Python traceback.
_PYTHON_ERROR = re.compile(r"^(?:[A-Za-z_][\w]*\.)*([A-Za-z_]\w*(?:Exception|Error)): (.*)$")


def _python_error(lines: list[str]) -> str | None:
    """The Python error inside a Spark error's text, as ``Type: message``: a streaming
    query stopped by an exception of its ``foreachBatch`` function carries the Python
    traceback in its message; None when there is none."""
    after = False
    for line in lines:
        if line.endswith("Traceback (most recent call last):"):
            after = True
        elif after and (m := _PYTHON_ERROR.match(line)):
            return f"{m.group(1)}: {m.group(2)}"
    return None


def _spark_message(exc: BaseException) -> str:
    """One line for a Spark (pyspark or py4j) error: its error class and message, no stack."""
    get_message = getattr(exc, "getMessage", None)
    text = str(get_message() if callable(get_message) else exc).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    python = _python_error(lines)
    if python is not None:  # an error raised in Python inside Spark (foreachBatch)
        return python
    if lines[0].startswith("An error occurred while calling"):  # py4j: the Java error follows
        for line in lines[1:]:
            if line.startswith("at ") or line.startswith("..."):
                continue
            m = _JAVA_LINE.search(line)
            if m:
                return m.group(1)
    return lines[0]


def quiet_spark_logs() -> None:
    """Stop pyspark from logging each SQL error with its Java stack trace (ctc reports it as
    one line). The loggers are created here with a level above CRITICAL; pyspark reuses them."""
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 10)


def reports_errors_with(status: int) -> Callable[[F], F]:
    """Turn spec errors and runtime failures into one line each and exit ``status``.

    Spark errors become ``ctc: error: Spark: <message>`` without the Java stack trace, and
    unexpected errors ``ctc: error: internal error: …``; ``ctc --verbose`` keeps the full
    traceback (and Java stack trace) of both.
    """

    def decorate(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except click.ClickException:
                raise  # usage errors: click prints them and exits 2
            except SpecErrors as exc:
                for err in exc.errors:
                    click.echo(str(err), err=True)
                click.echo(f"ctc: {plural(len(exc.errors), 'problem')} found", err=True)
                sys.exit(status)
            except (OSError, ValueError) as exc:
                if type(exc).__module__.startswith(("pyspark", "py4j")):
                    _spark_failure(exc, status)
                if is_verbose():
                    raise
                fail(str(exc), status)
            except Exception as exc:
                if type(exc).__module__.startswith(("pyspark", "py4j")):
                    _spark_failure(exc, status)
                if is_verbose():
                    raise
                fail(
                    f"internal error: {type(exc).__name__}: {exc} "
                    "(ctc --verbose shows the traceback)",
                    status,
                )

        return wrapper  # type: ignore[return-value]

    return decorate


#: spec errors and failures exit with status 1
reports_errors = reports_errors_with(1)


def _spark_failure(exc: BaseException, status: int = 1) -> NoReturn:
    """Report a Spark error: one line, or with --verbose the full trace first."""
    if is_verbose():
        import traceback

        click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
    fail(f"Spark: {_spark_message(exc)}", status)
