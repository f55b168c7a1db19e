# The EMR Serverless Spark application that runs `ctc run` (the stream) and the daily batch
# jobs, and the job role they run as, limited to the project's resources.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition
  glue_arn  = "arn:${local.partition}:glue:${local.region}:${local.account}"
}

resource "aws_emrserverless_application" "spark" {
  name = "${var.prefix}-spark"
  # Spark 4.0.2, the line of the pyspark pin (docs/adr/0001); tests/infra checks it.
  release_label = var.release_label
  type          = "spark"
  architecture  = "X86_64"

  maximum_capacity {
    cpu    = var.max_vcpu
    memory = var.max_memory
    disk   = var.max_disk
  }

  auto_start_configuration {
    enabled = true
  }

  auto_stop_configuration {
    enabled              = true
    idle_timeout_minutes = var.idle_timeout_minutes
  }

  dynamic "image_configuration" {
    for_each = var.image_uri == "" ? [] : [var.image_uri]
    content {
      image_uri = image_configuration.value
    }
  }

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "jobs" {
  name              = "/ctc/${var.prefix}/emr"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["emr-serverless.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "job" {
  name               = "${var.prefix}-emr-job"
  assume_role_policy = data.aws_iam_policy_document.trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "job" {
  statement {
    sid     = "ReadJobArtifacts"
    actions = ["s3:GetObject"]
    resources = [
      "${var.artifacts_bucket_arn}/jobs/*",
    ]
  }
  statement {
    sid       = "WriteJobLogs"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = ["${var.artifacts_bucket_arn}/logs/*"]
  }
  statement {
    sid       = "ListProjectBuckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.artifacts_bucket_arn, var.checkpoints_bucket_arn, var.lake_bucket_arn]
  }
  statement {
    sid     = "CheckpointAndLakeData"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [
      "${var.checkpoints_bucket_arn}/*",
      "${var.lake_bucket_arn}/${var.warehouse_prefix}/*",
    ]
  }
  statement {
    sid = "ReadTheTradeStream"
    actions = [
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:ListShards",
      "kinesis:GetShardIterator",
      "kinesis:GetRecords",
      "kinesis:SubscribeToShard",
      "kinesis:RegisterStreamConsumer",
      "kinesis:DescribeStreamConsumer",
      "kinesis:ListStreamConsumers",
    ]
    resources = [var.stream_arn, "${var.stream_arn}/consumer/*"]
  }
  statement {
    sid       = "WriteTheHotStore"
    actions   = ["dynamodb:PutItem", "dynamodb:BatchWriteItem", "dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:DescribeTable"]
    resources = var.table_arns
  }
  statement {
    sid = "IcebergTablesInGlue"
    actions = [
      "glue:GetDatabase",
      "glue:GetTable",
      "glue:GetTables",
      "glue:CreateTable",
      "glue:UpdateTable",
    ]
    resources = [
      "${local.glue_arn}:catalog",
      "${local.glue_arn}:database/${var.database_name}",
      "${local.glue_arn}:table/${var.database_name}/*",
    ]
  }
  statement {
    sid       = "LakeFormationCredentialVending"
    actions   = ["lakeformation:GetDataAccess"]
    resources = ["*"] # the action has no resource-level permissions
  }
  statement {
    sid       = "UseTheProjectKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [var.kms_key_arn]
  }
  statement {
    sid       = "BatchMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData has no resource-level permissions: limited by namespace
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.metrics_namespace]
    }
  }
  statement {
    sid       = "JobLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [aws_cloudwatch_log_group.jobs.arn, "${aws_cloudwatch_log_group.jobs.arn}:*"]
  }
}

resource "aws_iam_role_policy" "job" {
  name   = "ctc-job"
  role   = aws_iam_role.job.id
  policy = data.aws_iam_policy_document.job.json
}
