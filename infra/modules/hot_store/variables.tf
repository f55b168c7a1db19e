variable "prefix" {
  description = "Table name prefix: the store URL is dynamodb://PREFIX?region=R."
  type        = string
}

variable "kms_key_arn" {
  description = "The project's KMS key."
  type        = string
}

variable "point_in_time_recovery" {
  description = "Continuous backups of the tables (a few cents a month at alert volumes)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
