variable "prefix" {
  description = "Name prefix of every resource, e.g. ctc-dev."
  type        = string
}

variable "kms_key_arn" {
  description = "The project's KMS key."
  type        = string
}

variable "retention_hours" {
  description = "Hours a record stays readable: 24 costs nothing extra; a stopped stream job must restart from its checkpoint within it, or records are lost."
  type        = number
  default     = 24
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
