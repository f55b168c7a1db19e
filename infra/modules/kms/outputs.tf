output "key_arn" {
  description = "ARN of the project's customer-managed key."
  value       = aws_kms_key.data.arn
}
