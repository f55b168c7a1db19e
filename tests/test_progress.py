"""The progress line: drawn in place on a terminal, absent when stderr is not one; notes
always printed."""

from __future__ import annotations

import io
import os

from ctc.progress import Progress, duration


def test_not_a_terminal_gets_notes_and_no_progress_line() -> None:
    out = io.StringIO()
    p = Progress(out)
    assert not p.live
    p.note("starting")
    p.task(1000)
    p.stage("batch 0: quality gate")
    p.advance(400)
    p.close()
    assert out.getvalue() == "ctc: starting\n"


def test_a_terminal_gets_a_line_redrawn_in_place_with_rate_and_eta() -> None:
    leader, follower = os.openpty()
    with open(follower, "w", encoding="utf-8", closefd=True) as tty:
        p = Progress(tty, interval=60)
        assert p.live  # found by isatty, not told
        p.task(1000)
        p.stage("batch 3: detectors")
        p.advance(400)
        line = p.line()
        p.note("a note")
        p.close()
    written = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        written += chunk
    os.close(leader)
    text = written.decode()
    assert line.startswith("ctc: 400/1,000 events · ")
    assert "events/s" in line and "ETA " in line and "batch 3: detectors (" in line
    assert "\r\x1b[Kctc: 400/1,000 events" in text  # redrawn in place
    assert "\r\x1b[Kctc: a note" in text  # the line is erased before a note
    assert text.endswith("\r\x1b[K") or text.rstrip("\r\n").endswith("\x1b[K")


def test_without_a_total_there_is_no_eta_and_units_other_than_events_may_hide_the_rate() -> None:
    p = Progress(io.StringIO(), live=False)
    p.task(None)
    p.stage("batch 0")
    p.advance(10)
    assert "10 events" in p.line() and "ETA" not in p.line()
    p.task(3, unit="detectors", rate=False)
    p.stage("[1/3] MOD-002 whale-detector")
    p.advance(1)
    assert "1/3 detectors" in p.line() and "/s" not in p.line() and "ETA" in p.line()


def test_duration_reads_as_a_person_says_it() -> None:
    assert [duration(s) for s in (0.4, 8, 125, 3720)] == ["0 s", "8 s", "2 min 05 s", "1 h 02 min"]
