"""The read API and the dashboard: ``handle`` (pure, over an AlertStore), the AWS Lambda
entry point (:mod:`ctc.serve.aws_lambda`) and the local server (``ctc serve``)."""

from ctc.serve.handler import handle

__all__ = ["handle"]
