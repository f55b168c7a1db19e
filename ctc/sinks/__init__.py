"""Where the runtime's results go: the hot stores (:mod:`ctc.sinks.stores`, SQLite locally,
DynamoDB in AWS) and the lake (:mod:`ctc.sinks.lake`, Iceberg through pyiceberg locally or
through Spark's catalog on EMR).

Nothing is imported here, so the API (``ctc.serve``) can import the stores without the lake's
dependencies.
"""
