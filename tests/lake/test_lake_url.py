"""`--lake` URLs, the Spark settings a Spark-catalog lake needs, and the SQL it issues.

No Spark here: what the Glue path would send to Spark is checked as text (the Iceberg
jars are not on this machine; tests/lake/test_lake_spark_catalog.py runs what can run).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ctc.cli import main
from ctc.sinks.lake.factory import (
    LakeTarget,
    LakeUrlError,
    open_lake,
    parse_lake_url,
    preload_lake,
)
from ctc.sinks.lake.local import LocalLake
from ctc.sinks.lake.spark_catalog import describe_partitioning_rows
from ctc.sinks.lake.spark_conf import ICEBERG_PACKAGES, session_keys
from ctc.sinks.lake.spark_sql import (
    add_columns_sql,
    create_table_sql,
    has_batch_sql,
    snapshots_sql,
    widen_column_sql,
)
from ctc.sinks.lake.tables import ANOMALY_ALERTS, RAW_TRADES, TableDef

ROOT = Path(__file__).resolve().parents[2]

GLUE_CONF = {
    "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
    "spark.sql.catalog.lake": "org.apache.iceberg.spark.SparkCatalog",
    "spark.sql.catalog.lake.warehouse": "s3://ctc-lake/warehouse",
    "spark.sql.catalog.lake.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
    "spark.sql.catalog.lake.catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
    "spark.jars.packages": (
        "org.apache.iceberg:iceberg-spark-runtime-4.0_2.13:1.10.1,"
        "org.apache.iceberg:iceberg-aws-bundle:1.10.1"
    ),
}


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("var/lake", Path("var/lake")),
        ("/abs/lake", Path("/abs/lake")),
        ("file:var/lake", Path("var/lake")),
        ("file:///abs/lake", Path("/abs/lake")),
        (Path("var/x"), Path("var/x")),
    ],
)
def test_folders_and_file_urls_are_the_local_lake(url: str | Path, path: Path) -> None:
    target = parse_lake_url(url)
    assert (target.kind, target.path) == ("local", path)
    assert target.spark_conf() == {}
    assert not target.uses_spark


def test_none_is_no_lake() -> None:
    assert parse_lake_url("none").kind == "none"
    assert parse_lake_url(None).kind == "none"
    assert open_lake("none") is None


def test_glue_url_gives_the_glue_catalog_conf() -> None:
    target = parse_lake_url("glue://ctc?warehouse=s3://ctc-lake/warehouse")
    assert target == LakeTarget(
        "glue", namespace="ctc", catalog="lake", warehouse="s3://ctc-lake/warehouse"
    )
    assert target.uses_spark
    assert target.spark_conf() == GLUE_CONF


def test_glue_url_options() -> None:
    target = parse_lake_url(
        "glue://analytics?warehouse=s3://bkt/p&catalog=glue_cat&region=eu-west-1&packages=false"
    )
    conf = target.spark_conf()
    assert target.namespace == "analytics"
    assert conf["spark.sql.catalog.glue_cat"] == "org.apache.iceberg.spark.SparkCatalog"
    assert conf["spark.sql.catalog.glue_cat.client.region"] == "eu-west-1"
    assert "spark.jars.packages" not in conf  # EMR: the release's jar on spark.jars
    # what a running session can still take: the catalog's own settings
    assert set(session_keys(conf)) == {k for k in conf if k.startswith("spark.sql.catalog.")}


def test_hadoop_url_with_a_local_warehouse(tmp_path: Path) -> None:
    conf = parse_lake_url(f"hadoop://ctc?warehouse={tmp_path}").spark_conf()
    assert conf["spark.sql.catalog.lake.type"] == "hadoop"
    assert conf["spark.sql.catalog.lake.warehouse"] == tmp_path.as_uri()
    assert "spark.sql.catalog.lake.io-impl" not in conf  # Hadoop's FileIO for file:
    assert "spark.sql.catalog.lake.catalog-impl" not in conf
    s3 = parse_lake_url("hadoop://ctc?warehouse=s3://bkt/p&packages=no").spark_conf()
    assert s3["spark.sql.catalog.lake.io-impl"] == "org.apache.iceberg.aws.s3.S3FileIO"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("glue://ctc", "has no warehouse: add \\?warehouse=s3://BUCKET/PREFIX"),
        ("glue://ctc?warehouse=/tmp/x", "warehouse must be an s3://"),
        ("glue://ctc?warehouse=s3://bkt/p&color=red", "unknown parameters \\['color'\\]"),
        ("glue://ctc?warehouse=s3://bkt/p&warehouse=s3://cee/p", "repeated parameters"),
        ("glue://my-db?warehouse=s3://bkt/p", "bad database name 'my-db'"),
        ("glue://ctc/extra?warehouse=s3://bkt/p", "expected glue://DATABASE"),
        ("glue://?warehouse=s3://bkt/p", "expected glue://DATABASE"),
        ("glue://ctc?warehouse=s3://bkt/p&catalog=a.b", "bad catalog name"),
        ("glue://ctc?warehouse=s3://bkt/p&region=Europe", "bad AWS region"),
        ("glue://ctc?warehouse=s3://bkt/p&packages=maybe", "packages must be true or false"),
        ("s3://bucket/lake", "unknown lake URL 's3://bucket/lake': use a folder"),
        ("file://host/x", "expected file:PATH"),
        ("", "empty lake URL"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(LakeUrlError, match=message):
        parse_lake_url(url)


def test_open_lake_local_and_spark_needs_a_session(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path / "wh"))
    assert isinstance(lake, LocalLake) and not lake.writes_frames
    with pytest.raises(LakeUrlError, match="pass a session"):
        open_lake("glue://ctc?warehouse=s3://bkt/p")


def test_preload_imports_the_local_lake_in_a_thread_and_only_for_it(tmp_path: Path) -> None:
    import sys

    thread = preload_lake(tmp_path / "lake")
    assert thread is not None and thread.daemon
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert {"pyiceberg.catalog.sql", "pyiceberg.io.pyarrow"} <= set(sys.modules)
    assert not (tmp_path / "lake").exists()  # imports only: nothing opened or created
    assert preload_lake("none") is None
    assert preload_lake("glue://ctc?warehouse=s3://bucket/lake") is None


def test_ctc_run_rejects_a_bad_lake_url_in_one_line_before_spark() -> None:
    result = CliRunner().invoke(
        main, ["run", "--detectors", str(ROOT / "detectors"), "--lake", "glue://ctc"]
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == [
        "ctc: error: 'glue://ctc' has no warehouse: add ?warehouse=s3://BUCKET/PREFIX"
    ], result.output
    assert "Traceback" not in result.output and "starting Spark" not in result.output


def test_ctc_run_help_names_the_lake_urls() -> None:
    result = CliRunner().invoke(main, ["run", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "glue://DATABASE?warehouse=s3://BUCKET/PREFIX" in text
    assert "hadoop://DATABASE?warehouse=URI" in text
    assert "[default: var/lake]" in text


# --------------------------------------------------------------------------- SQL text


def test_create_table_ddl_of_the_core_tables() -> None:
    assert create_table_sql("lake", "ctc", ANOMALY_ALERTS) == (
        "CREATE TABLE IF NOT EXISTS `lake`.`ctc`.`anomaly_alerts` ("
        "`alert_id` STRING, `alert_type` STRING, `module_id` STRING, `symbol` STRING, "
        "`exchange` STRING, `severity` STRING, `detected_at` TIMESTAMP, `message` STRING, "
        "`ttl_epoch` BIGINT, `details` STRING, `spec_version` STRING, `ctc_version` STRING) "
        "USING iceberg "
        "PARTITIONED BY (days(`detected_at`), `alert_type`) "
        "TBLPROPERTIES ('format-version' = '2')"
    )
    raw = create_table_sql("lake", "ctc", RAW_TRADES)
    assert "`timestamp` TIMESTAMP" in raw and "`is_late` BOOLEAN" in raw
    assert raw.endswith(
        "USING iceberg PARTITIONED BY (days(`timestamp`), `symbol`) "
        "TBLPROPERTIES ('format-version' = '2')"
    )


def test_ddl_transforms_aliases_and_checks() -> None:
    t = TableDef("t", (("ts", "timestamp"), ("n", "long"), ("d", "date")), ("hour(ts)", "month(d)"))
    sql = create_table_sql("c", "ns", t)
    assert "`n` BIGINT" in sql and "PARTITIONED BY (hours(`ts`), months(`d`))" in sql
    assert "PARTITIONED" not in create_table_sql("c", "ns", TableDef("u", (("x", "int"),)))
    with pytest.raises(ValueError, match="needs a timestamp or date"):
        create_table_sql("c", "ns", TableDef("t", (("s", "string"),), ("day(s)",)))
    with pytest.raises(Exception, match="bad identifier"):
        create_table_sql("c; DROP", "ns", t)


def test_evolution_and_batch_key_sql() -> None:
    ident = "`lake`.`ctc`.`t`"
    assert add_columns_sql(ident, [("extra", "double"), ("n", "long")]) == (
        "ALTER TABLE `lake`.`ctc`.`t` ADD COLUMNS (`extra` DOUBLE, `n` BIGINT)"
    )
    assert widen_column_sql(ident, "n", "bigint") == (
        "ALTER TABLE `lake`.`ctc`.`t` ALTER COLUMN `n` TYPE BIGINT"
    )
    snaps = "`lake`.`ctc`.`t`.`snapshots`"
    # the key is a bound parameter, never pasted into the text
    assert has_batch_sql(snaps) == (
        "SELECT snapshot_id FROM `lake`.`ctc`.`t`.`snapshots` "
        "WHERE summary['ctc.batch_key'] = :key LIMIT 1"
    )
    assert snapshots_sql(snaps).endswith("FROM `lake`.`ctc`.`t`.`snapshots` ORDER BY committed_at")


def test_partitioning_read_from_describe_rows() -> None:
    iceberg = [
        ("alert_id", "string"),
        ("detected_at", "timestamp"),
        ("", ""),
        ("# Partitioning", ""),
        ("Part 0", "days(detected_at)"),
        ("Part 1", "identity(`alert_type`)"),
        ("Part 2", "symbol"),
        ("", ""),
        ("# Metadata Columns", ""),
        ("_spec_id", "int"),
    ]
    assert describe_partitioning_rows(iceberg) == (
        ("detected_at", "day"),
        ("alert_type", "identity"),
        ("symbol", "identity"),
    )
    session = [
        ("id", "string"),
        ("sym", "string"),
        ("# Partition Information", ""),
        ("# col_name", "data_type"),
        ("sym", "string"),
    ]
    assert describe_partitioning_rows(session) == (("sym", "identity"),)
    assert (
        describe_partitioning_rows(
            [("id", "string"), ("# Partitioning", ""), ("Not partitioned", "")]
        )
        == ()
    )


def test_packages_are_the_spark_4_0_runtime_and_aws_bundle() -> None:
    assert ICEBERG_PACKAGES[0].startswith("org.apache.iceberg:iceberg-spark-runtime-4.0_2.13:")
    assert ICEBERG_PACKAGES[1].startswith("org.apache.iceberg:iceberg-aws-bundle:")
