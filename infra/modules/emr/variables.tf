variable "prefix" {
  description = "Name prefix of every resource, e.g. ctc-dev."
  type        = string
}

variable "release_label" {
  description = "EMR release: emr-spark-8.0.0 ships Spark 4.0.2, the pyspark line of docs/adr/0001."
  type        = string
  default     = "emr-spark-8.0.0"
}

variable "max_vcpu" {
  description = "Maximum capacity of the application: vCPU across all its workers."
  type        = string
  default     = "16 vCPU"
}

variable "max_memory" {
  description = "Maximum capacity of the application: memory across all its workers."
  type        = string
  default     = "64 GB"
}

variable "max_disk" {
  description = "Maximum capacity of the application: disk across all its workers."
  type        = string
  default     = "200 GB"
}

variable "idle_timeout_minutes" {
  description = "Auto-stop the application after this many idle minutes."
  type        = number
  default     = 15
}

variable "image_uri" {
  description = "Optional custom EMR Serverless image (ECR URI) with the job's Python environment baked in; empty: the release's image."
  type        = string
  default     = ""
}

variable "artifacts_bucket_arn" {
  description = "ARN of the artifacts bucket (jobs/ read, logs/ written)."
  type        = string
}

variable "checkpoints_bucket_arn" {
  description = "ARN of the checkpoints bucket."
  type        = string
}

variable "lake_bucket_arn" {
  description = "ARN of the lake bucket."
  type        = string
}

variable "warehouse_prefix" {
  description = "Key prefix of the Iceberg warehouse in the lake bucket."
  type        = string
  default     = "warehouse"
}

variable "stream_arn" {
  description = "ARN of the trade stream the job reads."
  type        = string
}

variable "table_arns" {
  description = "ARNs of the hot store's tables the job writes."
  type        = list(string)
}

variable "database_name" {
  description = "The lake's Glue database."
  type        = string
}

variable "kms_key_arn" {
  description = "The project's KMS key."
  type        = string
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the runtime's metrics (ctc run --cloudwatch)."
  type        = string
}

variable "log_retention_days" {
  description = "Days to keep the job logs in CloudWatch."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
