"""`ctc deploy` end to end against moto in server mode (S3, EMR Serverless, Lambda,
Kinesis, DynamoDB, CloudFront on 127.0.0.1): the application is found, the bundle is
uploaded, the stream job is started with the expected parameters, the API's code and the
dashboard are updated; a compatible change keeps the checkpoint, a breaking one needs
--new-checkpoint."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from ctc.cli import main
from ctc.deploy.job import STREAM_JOB_NAME
from ctc.deploy.release import EMR_RELEASE
from ctc.sinks.stores.dynamodb_store import DynamoDBAlertStore

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
PREFIX = "ctc-e2e"
#: moto accepts only release labels of the form emr-X.Y.0, not emr-spark-8.0.0: the
#: application is made with this one and the test expects it where ctc expects EMR_RELEASE.
MOTO_RELEASE = "emr-8.0.0"


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


@pytest.fixture(scope="module")
def environment(moto_endpoint: str) -> dict[str, Any]:
    """What `terraform apply` would have made, on moto; returns the outputs file content."""
    env = {
        "region_name": REGION,
        "endpoint_url": moto_endpoint,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    s3 = boto3.client("s3", **env)
    buckets = {k: f"{PREFIX}-{k}" for k in ("artifacts", "checkpoints", "dashboard", "lake")}
    for name in buckets.values():
        s3.create_bucket(Bucket=name)
    app = boto3.client("emr-serverless", **env).create_application(
        name=f"{PREFIX}-spark", releaseLabel=MOTO_RELEASE, type="SPARK"
    )
    other = boto3.client("emr-serverless", **env).create_application(
        name=f"{PREFIX}-old", releaseLabel="emr-7.5.0", type="SPARK"
    )
    iam = boto3.client("iam", **env)
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    api_role = iam.create_role(RoleName=f"{PREFIX}-api", AssumeRolePolicyDocument=trust)
    job_role = iam.create_role(RoleName=f"{PREFIX}-emr-job", AssumeRolePolicyDocument=trust)
    bootstrap = (ROOT / "infra/modules/api/bootstrap/ctc/serve/aws_lambda.py").read_text()
    fn = boto3.client("lambda", **env).create_function(
        FunctionName=f"{PREFIX}-api",
        Runtime="python3.11",
        Role=api_role["Role"]["Arn"],
        Handler="ctc.serve.aws_lambda.lambda_handler",
        Code={
            "ZipFile": _zip(
                {
                    "ctc/__init__.py": "",
                    "ctc/serve/__init__.py": "",
                    "ctc/serve/aws_lambda.py": bootstrap,
                }
            )
        },
    )
    boto3.client("kinesis", **env).create_stream(
        StreamName=f"{PREFIX}-trades", StreamModeDetails={"StreamMode": "ON_DEMAND"}
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        DynamoDBAlertStore(PREFIX, region=REGION, endpoint_url=moto_endpoint).create_tables()
    dist = boto3.client("cloudfront", **env).create_distribution(
        DistributionConfig={
            "CallerReference": "ctc-e2e",
            "Comment": "ctc e2e",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "s3",
                        "DomainName": f"{buckets['dashboard']}.s3.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "s3",
                "ViewerProtocolPolicy": "https-only",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
            },
        }
    )
    outputs = {
        "region": REGION,
        "app": "ctc",
        "metrics_namespace": "CTC",
        "emr_application_id": app["applicationId"],
        "emr_release": EMR_RELEASE,
        "emr_job_role_arn": job_role["Role"]["Arn"],
        "emr_log_group": f"/ctc/{PREFIX}/emr",
        "emr_jars": ["/usr/share/aws/iceberg/lib/iceberg-spark3-runtime.jar"],
        "artifacts_bucket": buckets["artifacts"],
        "checkpoints_bucket": buckets["checkpoints"],
        "lake_bucket": buckets["lake"],
        "lake_warehouse": f"s3://{buckets['lake']}/warehouse",
        "glue_database": "ctc_e2e",
        "stream_name": f"{PREFIX}-trades",
        "store_prefix": PREFIX,
        "api_function_name": fn["FunctionName"],
        "dashboard_bucket": buckets["dashboard"],
        "dashboard_distribution_id": dist["Distribution"]["Id"],
    }
    return {
        "outputs": {
            k: {"value": v, "type": "string", "sensitive": False} for k, v in outputs.items()
        },
        "code_sha": fn["CodeSha256"],
        "env": env,
        "other_application": other["applicationId"],
    }


def _deploy(tmp_path: Path, environment: dict[str, Any], endpoint: str, *args: str) -> Any:
    out = tmp_path / "outputs.json"
    out.write_text(json.dumps(environment["outputs"]))
    return CliRunner().invoke(
        main,
        [
            "deploy",
            "--outputs",
            str(out),
            "--endpoint-url",
            endpoint,
            "--python-env",
            "image",
            *args,
        ],
        catch_exceptions=False,
    )


def _stream_runs(env: dict[str, Any], app_id: str) -> list[dict[str, Any]]:
    emr = boto3.client("emr-serverless", **env)
    try:
        runs = emr.list_job_runs(applicationId=app_id)["jobRuns"]
    except emr.exceptions.ResourceNotFoundException:  # moto: an application without runs
        return []
    return [
        emr.get_job_run(applicationId=app_id, jobRunId=r["id"])["jobRun"]
        for r in runs
        if r["name"] == STREAM_JOB_NAME
    ]


def test_deploy_refuses_an_application_of_another_release(
    tmp_path: Path, environment: dict[str, Any], moto_endpoint: str, aws_env: None
) -> None:
    result = _deploy(
        tmp_path,
        environment,
        moto_endpoint,
        "--dry-run",
        "--no-api",
        "--no-dashboard",
        "--application-id",
        environment["other_application"],
    )
    assert result.exit_code == 1
    assert f"the EMR application runs emr-7.5.0, ctc needs {EMR_RELEASE}" in result.output


def test_deploy_end_to_end(
    tmp_path: Path,
    environment: dict[str, Any],
    moto_endpoint: str,
    aws_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("ctc.deploy.release.EMR_RELEASE", MOTO_RELEASE)
    env, outs = environment["env"], {k: v["value"] for k, v in environment["outputs"].items()}
    app_id, bucket = outs["emr_application_id"], outs["artifacts_bucket"]

    # a dry run changes nothing
    dry = _deploy(
        tmp_path, environment, moto_endpoint, "--dry-run", "--detectors", str(ROOT / "detectors")
    )
    assert dry.exit_code == 0, dry.output
    assert "--conf spark.dynamicAllocation.enabled=false" in dry.output
    assert f"EMR application {app_id}: {MOTO_RELEASE}" in dry.output
    s3 = boto3.client("s3", **env)
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    assert _stream_runs(env, app_id) == []

    result = _deploy(tmp_path, environment, moto_endpoint, "--detectors", str(ROOT / "detectors"))
    assert result.exit_code == 0, result.output
    deployed = json.loads(s3.get_object(Bucket=bucket, Key="jobs/deployed.json")["Body"].read())
    version = deployed["version"]
    assert deployed["generation"] == 1 and deployed["tier"] == "small"
    checkpoint = f"s3://{outs['checkpoints_bucket']}/ctc/stream/g1"
    assert deployed["checkpoint"] == checkpoint
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    for folder in (version, "current"):
        assert {f"jobs/{folder}/ctc-job.tar.gz", f"jobs/{folder}/entrypoint.py"} <= keys
    bundle = s3.get_object(Bucket=bucket, Key=f"jobs/{version}/ctc-job.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(bundle)) as tar:
        names = tar.getnames()
    assert "site/ctc/cli.py" in names and "detectors/tiers/small.yaml" in names

    runs = _stream_runs(env, app_id)
    assert len(runs) == 1 and runs[0]["jobRunId"] == deployed["job_run_id"]
    driver = runs[0]["jobDriver"]["sparkSubmit"]
    root = f"s3://{bucket}/jobs/{version}"
    assert driver["entryPoint"] == f"{root}/entrypoint.py"
    args = driver["entryPointArguments"]
    assert args[0] == "stream"
    assert args[args.index("--source") + 1] == (
        f"kinesis:{outs['stream_name']}?region={REGION}&start=TRIM_HORIZON"
    )
    assert args[args.index("--checkpoint") + 1] == checkpoint
    assert args[args.index("--store") + 1] == f"dynamodb://{PREFIX}?region={REGION}"
    assert args[args.index("--lake") + 1].startswith(
        f"glue://ctc_e2e?warehouse=s3://{outs['lake_bucket']}/warehouse&region={REGION}"
    )
    assert f"spark.archives={root}/ctc-job.tar.gz#job" in driver["sparkSubmitParameters"]
    assert runs[0]["executionRole"] == outs["emr_job_role_arn"]
    monitoring = runs[0]["configurationOverrides"]["monitoringConfiguration"]
    assert monitoring["cloudWatchLoggingConfiguration"]["logGroupName"] == outs["emr_log_group"]

    lam = boto3.client("lambda", **env)
    config = lam.get_function(FunctionName=outs["api_function_name"])["Configuration"]
    assert config["CodeSha256"] != environment["code_sha"]
    assert any(k.startswith("api/") for k in keys)
    site = s3.head_object(Bucket=outs["dashboard_bucket"], Key="index.html")
    assert site["ContentType"] == "text/html" and site["CacheControl"] == "no-cache"
    cf = boto3.client("cloudfront", **env)
    assert (
        cf.list_invalidations(DistributionId=outs["dashboard_distribution_id"])["InvalidationList"][
            "Quantity"
        ]
        >= 1
    )

    # the same detectors again: compatible, same checkpoint
    again = _deploy(
        tmp_path,
        environment,
        moto_endpoint,
        "--detectors",
        str(ROOT / "detectors"),
        "--no-api",
        "--no-dashboard",
    )
    assert again.exit_code == 0, again.output
    assert "same checkpoint" in again.output

    # a breaking change (the volume window) is refused, then deployed on a new checkpoint
    changed = tmp_path / "detectors"
    shutil.copytree(ROOT / "detectors", changed)
    spec = changed / "volume-anomaly.yaml"
    spec.write_text(spec.read_text().replace("size: 60 seconds", "size: 120 seconds", 1))
    refused = CliRunner().invoke(
        main,
        [
            "deploy",
            "--outputs",
            str(tmp_path / "outputs.json"),
            "--endpoint-url",
            moto_endpoint,
            "--python-env",
            "image",
            "--detectors",
            str(changed),
            "--no-api",
            "--no-dashboard",
        ],
    )
    assert refused.exit_code == 1
    assert "breaking change" in refused.output and "--new-checkpoint" in refused.output
    new = _deploy(
        tmp_path,
        environment,
        moto_endpoint,
        "--detectors",
        str(changed),
        "--no-api",
        "--no-dashboard",
        "--new-checkpoint",
    )
    assert new.exit_code == 0, new.output
    record = json.loads(s3.get_object(Bucket=bucket, Key="jobs/deployed.json")["Body"].read())
    assert record["generation"] == 2 and record["checkpoint"].endswith("/ctc/stream/g2")


def test_missing_names_are_one_line_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["deploy", "--dry-run", "--offline", "--region", "eu-west-1"])
    assert result.exit_code == 1
    assert result.output.startswith("ctc: error: missing deployment names: ")
    assert "application_id (output emr_application_id, flag --application-id)" in result.output
