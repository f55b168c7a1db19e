"""``python -m ctc`` runs the ctc command."""

from ctc.cli import main

main()
