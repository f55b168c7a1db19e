# The billing alarm: estimated charges above a threshold. Billing metrics exist only in
# us-east-1, so this module is given a us-east-1 provider and its own topic there.
# "Receive Billing Alerts" must be on in the account's billing preferences.

resource "aws_sns_topic" "billing" {
  name              = "${var.prefix}-billing"
  kms_master_key_id = "alias/aws/sns"
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.billing.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_metric_alarm" "charges" {
  alarm_name          = "${var.prefix}-estimated-charges"
  alarm_description   = "Estimated charges this month above ${var.threshold_usd} USD"
  namespace           = "AWS/Billing"
  metric_name         = "EstimatedCharges"
  dimensions          = { Currency = "USD" }
  statistic           = "Maximum"
  period              = 21600
  evaluation_periods  = 1
  threshold           = var.threshold_usd
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.billing.arn]
  tags                = var.tags
}
