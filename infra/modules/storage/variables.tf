variable "prefix" {
  description = "Name prefix of every resource, e.g. ctc-dev."
  type        = string
}

variable "bucket_suffix" {
  description = "Suffix that makes the bucket names globally unique, e.g. the account id."
  type        = string
}

variable "kms_key_arn" {
  description = "The project's KMS key (lake, checkpoints, artifacts)."
  type        = string
}

variable "log_retention_days" {
  description = "Days to keep access logs and EMR job logs."
  type        = number
  default     = 30
}

variable "force_destroy" {
  description = "Let terraform destroy delete non-empty buckets (dev only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
