output "application_id" {
  description = "ID of the EMR Serverless application."
  value       = aws_emrserverless_application.spark.id
}

output "application_arn" {
  description = "ARN of the EMR Serverless application."
  value       = aws_emrserverless_application.spark.arn
}

output "job_role_arn" {
  description = "ARN of the job role."
  value       = aws_iam_role.job.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the jobs."
  value       = aws_cloudwatch_log_group.jobs.name
}

output "release_label" {
  description = "EMR release of the application."
  value       = aws_emrserverless_application.spark.release_label
}
