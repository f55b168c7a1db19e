output "bucket_name" {
  description = "Bucket of the dashboard site (ctc deploy uploads ctc/serve/static to it)."
  value       = module.site.name
}

output "distribution_id" {
  description = "ID of the CloudFront distribution (invalidated by ctc deploy)."
  value       = aws_cloudfront_distribution.dashboard.id
}

output "url" {
  description = "The dashboard's URL."
  value       = "https://${aws_cloudfront_distribution.dashboard.domain_name}"
}
