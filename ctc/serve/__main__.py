"""``python -m ctc.serve``: the same as ``ctc serve`` (before it is registered in ctc.cli)."""

from ctc.serve.cli import serve_command

serve_command(prog_name="ctc serve")
