# CloudWatch: one dashboard (batch duration, records in/out, dead-letter rate, Kinesis
# iterator age, alerts, API) and alarms on lag, errors and quality, notifying an SNS topic.
# The runtime publishes its per-micro-batch figures with `ctc run --cloudwatch NAMESPACE`
# (ctc.runtime.cloudwatch: dimension Application=APP). The billing alarm is in the billing
# module (billing metrics exist only in us-east-1).

data "aws_region" "current" {}

locals {
  region = data.aws_region.current.name
  dim    = ["Application", var.app]
  ns     = var.metrics_namespace
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.prefix}-alarms"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_dashboard" "ctc" {
  dashboard_name = "${var.prefix}-ctc"
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title   = "Micro-batch duration (s)", region = local.region, view = "timeSeries", stat = "Average", period = 60
          metrics = [[local.ns, "batch_seconds", local.dim[0], local.dim[1]], ["...", { stat = "Maximum" }]]
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title   = "Records in (processed) / out (passed the quality gate)", region = local.region, view = "timeSeries", stat = "Sum", period = 60
          metrics = [[local.ns, "processed", local.dim[0], local.dim[1]], [local.ns, "passed", local.dim[0], local.dim[1]]]
        }
      },
      {
        type = "metric", x = 0, y = 6, width = 12, height = 6
        properties = {
          title = "Dead-letter rate (%)", region = local.region, view = "timeSeries", period = 300
          metrics = [
            [local.ns, "failed", local.dim[0], local.dim[1], { id = "failed", stat = "Sum", visible = false }],
            [local.ns, "processed", local.dim[0], local.dim[1], { id = "processed", stat = "Sum", visible = false }],
            [{ expression = "100 * failed / processed", label = "dead letters %", id = "rate" }],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 6, width = 12, height = 6
        properties = {
          title   = "Kinesis iterator age (ms) and source lag (s)", region = local.region, view = "timeSeries", stat = "Maximum", period = 60
          metrics = [["AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", "StreamName", var.stream_name], [local.ns, "source_lag_seconds", local.dim[0], local.dim[1], { yAxis = "right" }]]
        }
      },
      {
        type = "metric", x = 0, y = 12, width = 12, height = 6
        properties = {
          # The runtime publishes the alerts of every module as one figure today.
          title   = "Alerts per micro-batch (all modules)", region = local.region, view = "timeSeries", stat = "Sum", period = 300
          metrics = [[local.ns, "alerts", local.dim[0], local.dim[1]]]
        }
      },
      {
        type = "metric", x = 12, y = 12, width = 12, height = 6
        properties = {
          title   = "Quality score (%) and daily batch", region = local.region, view = "timeSeries", period = 300
          metrics = [[local.ns, "quality_score", local.dim[0], local.dim[1], { stat = "Minimum" }], [local.ns, "BatchJobSuccess", { stat = "Sum", yAxis = "right" }], [local.ns, "BatchJobFailure", { stat = "Sum", yAxis = "right" }]]
        }
      },
      {
        type = "metric", x = 0, y = 18, width = 24, height = 6
        properties = {
          title   = "API: Lambda invocations, errors, p99 duration (ms)", region = local.region, view = "timeSeries", period = 60
          metrics = [["AWS/Lambda", "Invocations", "FunctionName", var.api_function_name, { stat = "Sum" }], [".", "Errors", ".", ".", { stat = "Sum" }], [".", "Duration", ".", ".", { stat = "p99", yAxis = "right" }]]
        }
      },
    ]
  })
}

resource "aws_cloudwatch_metric_alarm" "iterator_age" {
  alarm_name          = "${var.prefix}-kinesis-iterator-age"
  alarm_description   = "The stream job is more than 5 minutes behind the trade stream"
  namespace           = "AWS/Kinesis"
  metric_name         = "GetRecords.IteratorAgeMilliseconds"
  dimensions          = { StreamName = var.stream_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 3
  threshold           = 300000
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "source_lag" {
  alarm_name          = "${var.prefix}-source-lag"
  alarm_description   = "ctc run reports a source lag above 5 minutes"
  namespace           = local.ns
  metric_name         = "source_lag_seconds"
  dimensions          = { Application = var.app }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 3
  threshold           = 300
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "stream_stopped" {
  alarm_name          = "${var.prefix}-stream-stopped"
  alarm_description   = "No micro-batch metrics for 15 minutes: the stream job is not running"
  namespace           = local.ns
  metric_name         = "batch_seconds"
  dimensions          = { Application = var.app }
  statistic           = "SampleCount"
  period              = 300
  evaluation_periods  = 3
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "quality" {
  alarm_name          = "${var.prefix}-quality-score"
  alarm_description   = "Quality score below 95% for 5 minutes"
  namespace           = local.ns
  metric_name         = "quality_score"
  dimensions          = { Application = var.app }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 1
  threshold           = 95
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "api_errors" {
  alarm_name          = "${var.prefix}-api-errors"
  alarm_description   = "The API function raised errors in 2 of the last 3 5-minute periods"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = var.api_function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "batch_failed" {
  alarm_name          = "${var.prefix}-batch-failed"
  alarm_description   = "A daily batch execution failed"
  namespace           = "AWS/States"
  metric_name         = "ExecutionsFailed"
  dimensions          = { StateMachineArn = var.state_machine_arn }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "store_throttled" {
  alarm_name          = "${var.prefix}-alerts-table-throttled"
  alarm_description   = "Writes to the alerts table are throttled"
  namespace           = "AWS/DynamoDB"
  metric_name         = "WriteThrottleEvents"
  dimensions          = { TableName = var.alerts_table_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 2
  threshold           = 5
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}
