"""Human labels of alert types (ctc.serve.alert_labels)."""

from __future__ import annotations

import pytest

from ctc.serve.alert_labels import LABELS, alert_type_label


@pytest.mark.parametrize(
    ("alert_type", "label"),
    [
        ("volume_spike", "Volume spike"),
        ("whale_trade", "Whale trade"),
        ("spread_divergence", "Spread divergence"),
        ("known_whale_activity", "Known whale activity"),
        ("large_dex_swap", "Large DEX swap"),
        ("dex_swap", "DEX swap"),
        ("Score-Change", "Score change"),
        ("a.b:c", "A b c"),
        ("x", "X"),
        ("__", "__"),
    ],
)
def test_labels_come_from_the_words_of_the_type(alert_type: str, label: str) -> None:
    assert alert_type_label(alert_type) == label


def test_a_listed_label_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(LABELS, "backtest_complete", "Back-test finished")
    assert alert_type_label("backtest_complete") == "Back-test finished"
