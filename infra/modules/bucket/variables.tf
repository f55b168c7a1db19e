variable "name" {
  description = "Bucket name (globally unique)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the bucket's default encryption; empty: SSE-S3."
  type        = string
  default     = ""
}

variable "log_bucket" {
  description = "Bucket that receives this bucket's access logs."
  type        = string
}

variable "noncurrent_days" {
  description = "Days an overwritten or deleted object's old version is kept."
  type        = number
  default     = 30
}

variable "transition_ia_days" {
  description = "Move current objects to STANDARD_IA after this many days; 0: never."
  type        = number
  default     = 0
}

variable "expire_prefixes" {
  description = "Key prefixes whose objects expire, with their age in days."
  type        = map(number)
  default     = {}
}

variable "extra_policy_json" {
  description = "More bucket policy statements (JSON), merged with the TLS-only statement."
  type        = string
  default     = ""
}

variable "force_destroy" {
  description = "Let terraform destroy delete a non-empty bucket (dev only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags of the bucket."
  type        = map(string)
  default     = {}
}
