"""Human labels made from machine names (ctc.labels): the default of an alert type's or a
chart series' label when its spec gives none."""

from __future__ import annotations

import pytest

from ctc.labels import label_of


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("volume_spike", "Volume spike"),
        ("whale_trade", "Whale trade"),
        ("spread_divergence", "Spread divergence"),
        ("known_whale_activity", "Known whale activity"),
        ("large_dex_swap", "Large DEX swap"),
        ("dex_swap", "DEX swap"),
        ("Score-Change", "Score change"),
        ("binance-futures", "Binance futures"),
        ("a.b:c", "A b c"),
        ("x", "X"),
        ("__", "__"),
    ],
)
def test_labels_come_from_the_words_of_the_name(name: str, label: str) -> None:
    assert label_of(name) == label
