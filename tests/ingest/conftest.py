"""Fixtures for the ingest tests: the moto server (``moto_endpoint``) and dummy AWS
credentials (``aws_env``) are shared ones, in tests/conftest.py."""
