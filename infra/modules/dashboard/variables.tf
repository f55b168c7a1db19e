variable "prefix" {
  description = "Name prefix of every resource, e.g. ctc-dev."
  type        = string
}

variable "bucket_suffix" {
  description = "Suffix that makes the bucket name globally unique, e.g. the account id."
  type        = string
}

variable "api_endpoint" {
  description = "Base URL of the HTTP API (https://ID.execute-api.REGION.amazonaws.com)."
  type        = string
}

variable "log_bucket" {
  description = "Name of the access-log bucket (S3 and CloudFront logs)."
  type        = string
}

variable "force_destroy" {
  description = "Let terraform destroy delete the non-empty bucket (dev only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
