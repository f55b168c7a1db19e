# ctc deploy reads these (terraform output -json > ctc-outputs.json); their names are the
# contract of ctc.deploy.names.OUTPUT_KEYS.

output "region" {
  description = "AWS region of the deployment."
  value       = var.region
}

output "app" {
  description = "The runtime's application name."
  value       = var.app
}

output "metrics_namespace" {
  description = "CloudWatch namespace of ctc's metrics."
  value       = var.metrics_namespace
}

output "emr_application_id" {
  description = "EMR Serverless application ID."
  value       = module.emr.application_id
}

output "emr_release" {
  description = "EMR release label of the application."
  value       = module.emr.release_label
}

output "emr_job_role_arn" {
  description = "The job role of the EMR runs."
  value       = module.emr.job_role_arn
}

output "emr_log_group" {
  description = "CloudWatch log group of the EMR jobs."
  value       = module.emr.log_group_name
}

output "emr_jars" {
  description = "Jars of the EMR image on the jobs' class path."
  value       = local.emr_jars
}

output "artifacts_bucket" {
  description = "Bucket of the job artifacts, the API package and EMR logs."
  value       = module.storage.bucket_names["artifacts"]
}

output "checkpoints_bucket" {
  description = "Bucket of the stream's checkpoints."
  value       = module.storage.bucket_names["checkpoints"]
}

output "lake_bucket" {
  description = "Bucket of the Iceberg lake."
  value       = module.storage.bucket_names["lake"]
}

output "lake_warehouse" {
  description = "Iceberg warehouse URI."
  value       = module.catalog.warehouse
}

output "glue_database" {
  description = "Glue database of the lake."
  value       = module.catalog.database_name
}

output "stream_name" {
  description = "Kinesis trade stream."
  value       = module.stream.stream_name
}

output "store_prefix" {
  description = "Hot store table prefix (dynamodb://PREFIX)."
  value       = module.hot_store.table_prefix
}

output "api_function_name" {
  description = "The API's Lambda function."
  value       = module.api.function_name
}

output "api_endpoint" {
  description = "The HTTP API's base URL."
  value       = module.api.api_endpoint
}

output "dashboard_bucket" {
  description = "Bucket of the dashboard site."
  value       = module.dashboard.bucket_name
}

output "dashboard_distribution_id" {
  description = "CloudFront distribution of the dashboard."
  value       = module.dashboard.distribution_id
}

output "dashboard_url" {
  description = "The dashboard's URL (the API is under /api)."
  value       = module.dashboard.url
}

output "producer_repository_url" {
  description = "ECR repository of the producer image."
  value       = module.producer.repository_url
}

output "producer_cluster" {
  description = "ECS cluster of the producer."
  value       = module.producer.cluster_name
}

output "producer_service" {
  description = "ECS service of the producer."
  value       = module.producer.service_name
}

output "batch_state_machine_arn" {
  description = "The daily batch state machine."
  value       = module.batch.state_machine_arn
}

output "cloudwatch_dashboard" {
  description = "The CloudWatch dashboard."
  value       = module.monitoring.dashboard_name
}
