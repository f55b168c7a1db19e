"""infra/ against the code: table keys and GSIs, stream and handler names, environment
variables, the EMR release, the entry point's jobs, the job parameters, outputs, metrics
and IAM scoping. No Terraform binary needed: python-hcl2 parses every file."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path
from typing import Any

import boto3
import pytest
from infra_hcl import INFRA, module, parse, policy_documents, tf_files

from ctc.deploy import artifact, entrypoint, job, names, release
from ctc.runtime.cloudwatch import UNITS
from ctc.sinks.stores.dynamodb_store import DynamoDBAlertStore

ROOT = INFRA.parent


def test_every_tf_file_parses() -> None:
    files = tf_files()
    assert len(files) >= 40
    for path in files:
        assert isinstance(parse(path), dict), path


def _terraform_tables() -> dict[str, dict[str, Any]]:
    """The hot store's tables as DynamoDB would describe them, from the HCL."""
    hot = module("hot_store")
    indexes = hot["locals"]["alert_indexes"]
    tables = {}
    for body in hot["resource"]["aws_dynamodb_table"].values():
        suffix = body["name"].removeprefix("${var.prefix}-")
        keys = [(body["hash_key"], "HASH")] + (
            [(body["range_key"], "RANGE")] if "range_key" in body else []
        )
        gsis = {}
        for dyn in body.get("dynamic", []):
            content = dyn["global_secondary_index"]["content"][0]
            assert content["hash_key"] == "${global_secondary_index.value}"
            for name, pk in indexes.items():
                gsis[name] = (
                    [(pk, "HASH"), (content["range_key"], "RANGE")],
                    content["projection_type"],
                )
        tables[suffix] = {
            "keys": keys,
            "attributes": {(a["name"], a["type"]) for a in body["attribute"]},
            "gsis": gsis,
            "ttl": body["ttl"][0]["attribute_name"] if "ttl" in body else None,
            "billing": body["billing_mode"],
            "encrypted": body["server_side_encryption"][0]["enabled"],
        }
    return tables


def test_dynamodb_tables_equal_what_the_store_creates(moto_endpoint: str, aws_env: None) -> None:
    store = DynamoDBAlertStore("ctc-infra-parity", region="us-east-1", endpoint_url=moto_endpoint)
    store.create_tables()
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=moto_endpoint)
    want = _terraform_tables()
    made = {}
    try:
        for table in (store.alerts, store.market, store.status, store.windows, store.catalog_table):
            d = client.describe_table(TableName=table.name)["Table"]
            ttl = client.describe_time_to_live(TableName=table.name)["TimeToLiveDescription"]
            made[table.name.removeprefix("ctc-infra-parity-")] = {
                "keys": [(k["AttributeName"], k["KeyType"]) for k in d["KeySchema"]],
                "attributes": {
                    (a["AttributeName"], a["AttributeType"]) for a in d["AttributeDefinitions"]
                },
                "gsis": {
                    g["IndexName"]: (
                        [(k["AttributeName"], k["KeyType"]) for k in g["KeySchema"]],
                        g["Projection"]["ProjectionType"],
                    )
                    for g in d.get("GlobalSecondaryIndexes", [])
                },
                "ttl": ttl.get("AttributeName"),
                "billing": d["BillingModeSummary"]["BillingMode"],
            }
    finally:
        for table in (store.alerts, store.market, store.status, store.windows, store.catalog_table):
            client.delete_table(TableName=table.name)
    assert set(want) == set(made) == {"alerts", "market", "status", "windows", "catalog"}
    for name, table in want.items():
        assert table["encrypted"] is True
        for key in ("keys", "attributes", "gsis", "ttl", "billing"):
            assert table[key] == made[name][key], (name, key)


def test_stream_name_reaches_the_producer_and_the_job() -> None:
    assert module("stream")["resource"]["aws_kinesis_stream"]["trades"]["name"] == (
        "${var.prefix}-trades"
    )
    dev = module("dev")["module"]
    assert dev["producer"]["stream_name"] == "${module.stream.stream_name}"
    assert dev["producer"]["stream_arn"] == "${module.stream.stream_arn}"
    assert dev["emr"]["stream_arn"] == "${module.stream.stream_arn}"
    assert module("dev")["output"]["stream_name"]["value"] == "${module.stream.stream_name}"
    mode = module("stream")["resource"]["aws_kinesis_stream"]["trades"]["stream_mode_details"]
    assert mode[0]["stream_mode"] == "ON_DEMAND"


def test_producer_command_is_a_valid_ctc_ingest_call() -> None:
    from click.testing import CliRunner

    from ctc.cli import main

    command = module("producer")["locals"]["command"]
    assert command[0] == "ingest"
    assert command[command.index("--sink") + 1] == "kinesis:${var.stream_name}"
    # the options exist: `ctc ingest` parses them (with --help it stops before running)
    args = [re.sub(r"\$\{[^}]+\}", "x", a) for a in command]
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == 0, result.output
    for option in (a for a in command if a.startswith("--")):
        assert option in result.output


def test_api_handler_and_environment_match_the_code() -> None:
    fn = module("api")["resource"]["aws_lambda_function"]["api"]
    assert fn["handler"] == artifact.HANDLER
    module_name, _, attr = artifact.HANDLER.rpartition(".")
    assert callable(getattr(__import__(module_name, fromlist=[attr]), attr))
    source = (ROOT / "ctc/serve/aws_lambda.py").read_text()
    read = set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', source))
    env = fn["environment"][0]["variables"]
    assert set(env) == read == {"CTC_STORE_URL", "CTC_APP"}
    assert env["CTC_STORE_URL"].startswith("dynamodb://${var.table_prefix}?region=")
    # the runtime of the function satisfies requires-python
    runtime = fn["runtime"].removeprefix("python")
    required = metadata.metadata("ctc")["Requires-Python"].removeprefix(">=")
    assert tuple(map(int, runtime.split("."))) >= tuple(map(int, required.split(".")))
    # the bootstrap code answers at the same handler path
    assert (INFRA / "modules/api/bootstrap/ctc/serve/aws_lambda.py").is_file()


def test_emr_release_is_the_pyspark_line() -> None:
    variable = module("emr")["variable"]["release_label"]
    assert variable["default"] == release.EMR_RELEASE
    assert metadata.version("pyspark").startswith(release.SPARK_LINE + ".")
    adr = (ROOT / "docs/adr/0001-spark-4-0-line.md").read_text()
    assert release.EMR_RELEASE in adr and f"Spark {release.SPARK_LINE}" in adr
    app = module("emr")["resource"]["aws_emrserverless_application"]["spark"]
    assert app["auto_start_configuration"][0]["enabled"] is True
    assert app["auto_stop_configuration"][0]["enabled"] is True
    assert app["maximum_capacity"]


def test_batch_workflow_runs_the_entrypoints_jobs_with_the_deploys_parameters() -> None:
    local = module("batch")["locals"]
    for step in local["steps"]:
        assert step["args"][0] in entrypoint.JOBS
    expected = job.spark_submit_parameters("${local.job_root}", ['${join(",", var.extra_jars)}'])
    assert " ".join(local["spark_submit_confs"]) == expected
    assert local["job_root"] == "s3://${var.artifacts_bucket}/jobs/current"
    batch = next(s["args"] for s in local["steps"] if s["name"] == "BatchDetectors")
    # `ctc run --batch` over the large tier's batch detectors (MOD-011)
    assert entrypoint.JOBS[batch[0]] == ("run", "--batch")
    assert batch == [
        "batch",
        *("--tier", "large", "--store", "${var.store_url}", "--lake", "${var.lake_url}"),
    ]
    schedule = module("batch")["resource"]["aws_scheduler_schedule"]["daily"]
    assert module("batch")["variable"]["schedule_expression"]["default"] == "cron(0 2 * * ? *)"
    assert schedule["state"] == '${var.schedule_enabled ? "ENABLED" : "DISABLED"}'


def test_the_batch_step_writes_where_the_stream_writes() -> None:
    """dev passes the batch module the stream's --store and --lake (job.stream_arguments)."""
    from dataclasses import fields

    tf = {
        "region": "${var.region}",
        "store_prefix": "${module.hot_store.table_prefix}",
        "glue_database": "${module.catalog.database_name}",
        "lake_warehouse": "${module.catalog.warehouse}",
    }
    plain = {f.name: f.name.upper() for f in fields(names.DeployNames)}
    plain["lake_warehouse"] = "s3://WAREHOUSE"
    args = job.stream_arguments(names.DeployNames(**plain), "s3://c", "large")
    want = {}
    for option in ("--store", "--lake"):
        value = args[args.index(option) + 1]
        for field, expression in tf.items():
            value = value.replace(plain[field], expression)
        want[option] = value
    batch = module("dev")["module"]["batch"]
    assert (batch["store_url"], batch["lake_url"]) == (want["--store"], want["--lake"])


def test_dev_outputs_name_everything_ctc_deploy_reads() -> None:
    outputs = module("dev")["output"]
    assert set(names.OUTPUT_KEYS) <= set(outputs)
    jars = module("dev")["locals"]["emr_jars"]
    from ctc.sinks.lake.spark_conf import EMR_ICEBERG_JAR

    assert EMR_ICEBERG_JAR in jars


def test_dashboard_and_alarms_use_metrics_the_runtime_publishes() -> None:
    text = (INFRA / "modules/monitoring/main.tf").read_text()
    used = set(re.findall(r"\[local\.ns, \"([A-Za-z_]+)\"", text))
    used |= set(re.findall(r"namespace\s+= local\.ns\s+metric_name\s+= \"([A-Za-z_]+)\"", text))
    published = set(UNITS) | {"BatchJobSuccess", "BatchJobFailure"}
    assert used, "no ctc metric found in the monitoring module"
    assert used <= published, used - published
    assert {"batch_seconds", "processed", "passed", "failed", "alerts"} <= used
    alarms = module("monitoring")["resource"]["aws_cloudwatch_metric_alarm"]
    assert {"iterator_age", "source_lag", "api_errors", "batch_failed"} <= set(alarms)
    billing = module("billing")["resource"]["aws_cloudwatch_metric_alarm"]["charges"]
    assert billing["metric_name"] == "EstimatedCharges"


#: Actions with no resource-level permissions: the only ones that may name "*".
UNSCOPABLE = {
    "cloudwatch:PutMetricData",
    "ecr:GetAuthorizationToken",
    "lakeformation:GetDataAccess",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


def _allow_statements() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for mod, name, body in policy_documents():
        if (mod, name) == ("kms", "key_policy"):
            continue  # a key policy's "*" is the key itself
        for st in body.get("statement", []):
            if st.get("effect", "Allow") == "Allow" and "principals" not in st:
                out.append((f"{mod}.{name}.{st.get('sid')}", st))
    return out


def test_iam_policies_name_their_resources() -> None:
    statements = _allow_statements()
    assert len(statements) >= 25
    for where, st in statements:
        for action in st["actions"]:
            assert "*" not in action, f"{where}: wildcard action {action}"
        resources = st["resources"]
        resources = [resources] if isinstance(resources, str) else resources  # an expression
        if "*" in resources:
            assert set(st["actions"]) <= UNSCOPABLE, f"{where}: '*' for {st['actions']}"
            if "cloudwatch:PutMetricData" in st["actions"]:
                assert st["condition"][0]["variable"] == "cloudwatch:namespace", where
        for resource in resources:
            assert resource == "*" or resource.startswith(("${", "arn:")), (where, resource)


def test_producer_may_only_put_records_on_its_stream() -> None:
    doc = module("producer")["data"]["aws_iam_policy_document"]["task"]
    kinesis = [
        st for st in doc["statement"] if any(a.startswith("kinesis:") for a in st["actions"])
    ]
    assert [st["actions"] for st in kinesis] == [["kinesis:PutRecords"]]
    assert kinesis[0]["resources"] == ["${var.stream_arn}"]


def test_every_bucket_is_encrypted_versioned_and_private() -> None:
    bucket = module("bucket")["resource"]
    for kind in (
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_versioning",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_lifecycle_configuration",
    ):
        assert "this" in bucket[kind], kind
    block = bucket["aws_s3_bucket_public_access_block"]["this"]
    assert all(
        block[k] is True
        for k in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        )
    )
    storage = module("storage")["module"]
    assert set(storage) == {"lake", "checkpoints", "artifacts"}
    assert module("dashboard")["module"]["site"]["source"] == "../bucket"


def test_no_secrets_in_infra() -> None:
    pattern = re.compile(r"(AKIA[0-9A-Z]{16}|aws_secret_access_key|password\s*=)", re.I)
    for path in sorted(INFRA.rglob("*")):
        if path.is_file():
            assert not pattern.search(path.read_text(errors="replace")), path


@pytest.mark.parametrize("path", sorted(Path(INFRA / "modules").iterdir()), ids=lambda p: p.name)
def test_each_module_has_variables_outputs_and_versions(path: Path) -> None:
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
        assert (path / name).is_file(), f"{path.name}/{name}"
    for var in module(path.name)["variable"].values():
        assert var.get("description"), path.name
