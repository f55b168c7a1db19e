# The daily batch work: a Step Functions state machine that runs the job artifact's batch
# steps (historical load, batch detector MOD-011, quality checks, catalog
# update) as EMR Serverless job runs, publishes a success or failure metric, and notifies
# on failure; an EventBridge Scheduler schedule starts it (disabled by default, as in the
# seeds). The steps call the artifact's entrypoint (ctc/deploy/entrypoint.py), which says
# which ctc command each step needs and fails clearly when this build lacks it.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition
  job_root  = "s3://${var.artifacts_bucket}/jobs/current"

  # Must equal ctc.deploy.job.spark_submit_parameters for jobs/current (tests/infra).
  spark_submit_confs = [
    "--conf spark.archives=${local.job_root}/ctc-job.tar.gz#job",
    "--conf spark.emr-serverless.driverEnv.PYTHONPATH=./job/site",
    "--conf spark.executorEnv.PYTHONPATH=./job/site",
    "--conf spark.jars=${join(",", var.extra_jars)}",
  ]
  spark_submit = join(" ", local.spark_submit_confs)

  steps = [
    { name = "HistoricalLoad", args = ["history"] },
    # `ctc run --batch`: MOD-011 for the day before yesterday (UTC), from the
    # lake into the hot store and the lake, idempotent per day (docs/runtime.md)
    { name = "BatchDetectors", args = ["batch", "--tier", "large", "--store", var.store_url, "--lake", var.lake_url] },
    { name = "QualityChecks", args = ["quality"] },
    { name = "UpdateCatalog", args = ["catalog"] },
  ]

  failure_catch = [{
    ErrorEquals = ["States.ALL"]
    ResultPath  = "$.error"
    Next        = "NotifyFailure"
  }]

  step_states = {
    for i, step in local.steps : step.name => {
      Type     = "Task"
      Resource = "arn:${local.partition}:states:::emr-serverless:startJobRun.sync"
      Parameters = {
        ApplicationId    = var.application_id
        ExecutionRoleArn = var.job_role_arn
        Name             = "ctc-${step.args[0]}"
        JobDriver = {
          SparkSubmit = {
            EntryPoint            = "${local.job_root}/entrypoint.py"
            EntryPointArguments   = step.args
            SparkSubmitParameters = local.spark_submit
          }
        }
        ConfigurationOverrides = {
          MonitoringConfiguration = {
            S3MonitoringConfiguration = { LogUri = "s3://${var.artifacts_bucket}/logs/" }
          }
        }
      }
      ResultPath = null
      Catch      = local.failure_catch
      Next       = i + 1 < length(local.steps) ? local.steps[i + 1].name : "PublishSuccess"
    }
  }

  definition = {
    Comment = "ctc daily batch: ${join(" → ", [for s in local.steps : s.name])}"
    StartAt = local.steps[0].name
    States = merge(local.step_states, {
      PublishSuccess = {
        Type     = "Task"
        Resource = "arn:${local.partition}:states:::aws-sdk:cloudwatch:putMetricData"
        Parameters = {
          Namespace  = var.metrics_namespace
          MetricData = [{ MetricName = "BatchJobSuccess", Value = 1, Unit = "Count" }]
        }
        End = true
      }
      NotifyFailure = {
        Type     = "Task"
        Resource = "arn:${local.partition}:states:::sns:publish"
        Parameters = {
          TopicArn    = var.alarm_topic_arn
          Subject     = "ctc daily batch failed"
          "Message.$" = "States.JsonToString($.error)"
        }
        ResultPath = null
        Next       = "PublishFailure"
      }
      PublishFailure = {
        Type     = "Task"
        Resource = "arn:${local.partition}:states:::aws-sdk:cloudwatch:putMetricData"
        Parameters = {
          Namespace  = var.metrics_namespace
          MetricData = [{ MetricName = "BatchJobFailure", Value = 1, Unit = "Count" }]
        }
        Next = "Failed"
      }
      Failed = { Type = "Fail", Error = "BatchFailed", Cause = "a daily batch step failed" }
    })
  }
}

resource "aws_cloudwatch_log_group" "workflow" {
  name              = "/ctc/${var.prefix}/batch-workflow"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "sfn_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "workflow" {
  name               = "${var.prefix}-batch-workflow"
  assume_role_policy = data.aws_iam_policy_document.sfn_trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "workflow" {
  statement {
    sid       = "RunBatchJobs"
    actions   = ["emr-serverless:StartJobRun", "emr-serverless:GetJobRun", "emr-serverless:CancelJobRun"]
    resources = [var.application_arn, "${var.application_arn}/jobruns/*"]
  }
  statement {
    sid       = "PassTheJobRole"
    actions   = ["iam:PassRole"]
    resources = [var.job_role_arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["emr-serverless.amazonaws.com"]
    }
  }
  statement {
    sid       = "SyncIntegrationRule"
    actions   = ["events:PutTargets", "events:PutRule", "events:DescribeRule"]
    resources = ["arn:${local.partition}:events:${local.region}:${local.account}:rule/StepFunctionsGetEventsForEMRServerlessJobRule"]
  }
  statement {
    sid       = "NotifyFailures"
    actions   = ["sns:Publish"]
    resources = [var.alarm_topic_arn]
  }
  statement {
    sid       = "EncryptedTopic"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
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
    sid = "WorkflowLogDelivery"
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ]
    resources = ["*"] # log delivery actions have no resource-level permissions
  }
  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"] # X-Ray has no resource-level permissions
  }
}

resource "aws_iam_role_policy" "workflow" {
  name   = "ctc-batch-workflow"
  role   = aws_iam_role.workflow.id
  policy = data.aws_iam_policy_document.workflow.json
}

resource "aws_sfn_state_machine" "batch" {
  name       = "${var.prefix}-batch-workflow"
  role_arn   = aws_iam_role.workflow.arn
  definition = jsonencode(local.definition)

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.workflow.arn}:*"
    include_execution_data = true
    level                  = "ERROR"
  }

  tracing_configuration {
    enabled = true
  }

  encryption_configuration {
    type                              = "CUSTOMER_MANAGED_KMS_KEY"
    kms_key_id                        = var.kms_key_arn
    kms_data_key_reuse_period_seconds = 300
  }

  tags = var.tags
}

data "aws_iam_policy_document" "scheduler_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.prefix}-batch-schedule"
  assume_role_policy = data.aws_iam_policy_document.scheduler_trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "StartTheBatchWorkflow"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.batch.arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "ctc-batch-schedule"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "daily" {
  #checkov:skip=CKV_AWS_297:The schedule holds no data, only the state machine's ARN and an empty input
  name                         = "${var.prefix}-daily-batch"
  description                  = "ctc daily batch at ${var.schedule_expression} (UTC)"
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = "UTC"
  state                        = var.schedule_enabled ? "ENABLED" : "DISABLED"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_sfn_state_machine.batch.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({})
  }
}
