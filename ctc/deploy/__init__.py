"""``ctc deploy``: ship the detectors to AWS (docs/deploy.md, docs/adr/0013).

* :mod:`names` — where things are: Terraform's outputs or flags, never constants;
* :mod:`release` — the EMR release that matches the pyspark line (docs/adr/0001);
* :mod:`artifact` — the EMR job bundle and the API's Lambda package;
* :mod:`entrypoint` — the job's entry point (runs ``ctc run`` and the batch steps);
* :mod:`job` — the streaming job run's spark-submit parameters and arguments;
* :mod:`checkpoint` — same checkpoint or a new one: the review's classification;
* :mod:`actions` — the deployment as a list of steps, printed by ``--dry-run``;
* :mod:`aws` — the steps against AWS (boto3);
* :mod:`cli` — the command.
"""
