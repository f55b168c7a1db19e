"""The lake: ctc's Iceberg tables (see docs/lake.md)."""
