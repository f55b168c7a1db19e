output "alarm_arn" {
  description = "ARN of the billing alarm."
  value       = aws_cloudwatch_metric_alarm.charges.arn
}
