variable "prefix" {
  description = "Name prefix of every resource, e.g. ctc-dev."
  type        = string
}

variable "application_id" {
  description = "ID of the EMR Serverless application."
  type        = string
}

variable "application_arn" {
  description = "ARN of the EMR Serverless application."
  type        = string
}

variable "job_role_arn" {
  description = "The EMR job role."
  type        = string
}

variable "artifacts_bucket" {
  description = "The artifacts bucket (jobs/current/ holds the deployed job)."
  type        = string
}

variable "extra_jars" {
  description = "Jars of the EMR image that the jobs need on the class path (Iceberg, Kinesis connector)."
  type        = list(string)
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the batch success/failure metrics."
  type        = string
}

variable "alarm_topic_arn" {
  description = "SNS topic notified when a batch fails."
  type        = string
}

variable "kms_key_arn" {
  description = "The project's KMS key."
  type        = string
}

variable "store_url" {
  description = "The hot store the batch detectors write their alerts to (ctc run --store)."
  type        = string
}

variable "lake_url" {
  description = "The lake the batch detectors read and write (ctc run --lake glue://...)."
  type        = string
}

variable "schedule_expression" {
  description = "When the daily batch runs."
  type        = string
  default     = "cron(0 2 * * ? *)"
}

variable "schedule_enabled" {
  description = "Whether the daily schedule is on (off by default, as in the seeds)."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Days to keep the workflow's logs."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
