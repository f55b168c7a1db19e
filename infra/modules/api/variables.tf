variable "prefix" {
  description = "Name prefix of every resource, e.g. ctc-dev."
  type        = string
}

variable "table_prefix" {
  description = "The hot store's table prefix (CTC_STORE_URL=dynamodb://PREFIX?region=R)."
  type        = string
}

variable "table_arns" {
  description = "ARNs of the hot store's tables the API reads."
  type        = list(string)
}

variable "status_app" {
  description = "Application name of the runtime's status entry (CTC_APP; ctc run's default is ctc)."
  type        = string
  default     = "ctc"
}

variable "kms_key_arn" {
  description = "The project's KMS key."
  type        = string
}

variable "memory_mb" {
  description = "Lambda memory (MB); CPU grows with it."
  type        = number
  default     = 512
}

variable "reserved_concurrency" {
  description = "Upper bound of concurrent executions (cost guard)."
  type        = number
  default     = 20
}

variable "throttle_rate" {
  description = "Steady-state requests per second admitted by the HTTP API."
  type        = number
  default     = 200
}

variable "throttle_burst" {
  description = "Burst of requests admitted by the HTTP API."
  type        = number
  default     = 400
}

variable "log_retention_days" {
  description = "Days to keep the function's and the access logs."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
