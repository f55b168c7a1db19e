output "bucket_names" {
  description = "Bucket names by purpose: lake, checkpoints, artifacts."
  value = {
    lake        = module.lake.name
    checkpoints = module.checkpoints.name
    artifacts   = module.artifacts.name
  }
}

output "bucket_arns" {
  description = "Bucket ARNs by purpose."
  value = {
    lake        = module.lake.arn
    checkpoints = module.checkpoints.arn
    artifacts   = module.artifacts.arn
  }
}

output "logs_bucket" {
  description = "Name of the access-log bucket."
  value       = aws_s3_bucket.logs.id
}

output "logs_bucket_domain" {
  description = "Domain name of the access-log bucket (CloudFront logging)."
  value       = aws_s3_bucket.logs.bucket_domain_name
}
