variable "prefix" {
  description = "Name prefix of every resource, e.g. ctc-dev."
  type        = string
}

variable "kms_key_arn" {
  description = "The project's KMS key."
  type        = string
}

variable "retention_hours" {
  description = "Hours a record stays readable (24 is the cheapest; a restart from the checkpoint must happen within it)."
  type        = number
  default     = 48
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
