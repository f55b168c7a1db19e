"""Runs compiled Plans on Spark: sessions, batch back-tests, and (later) streaming."""
