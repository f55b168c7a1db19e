"""The lake: ctc's Iceberg tables (raw trades, alerts, dead letters, each module's output).

One interface, :class:`ctc.sinks.lake.base.Lake`, two implementations:
:mod:`ctc.sinks.lake.local` (pyiceberg on a SQLite catalog, the default) and
:mod:`ctc.sinks.lake.spark_catalog` (Spark's Iceberg catalog: Glue on EMR), opened from a
URL by :func:`ctc.sinks.lake.factory.open_lake`. The tables themselves are declared in
:mod:`ctc.sinks.lake.tables`. See docs/lake.md.
"""
