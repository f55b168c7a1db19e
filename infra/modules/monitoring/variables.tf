variable "prefix" {
  description = "Name prefix of every resource, e.g. ctc-dev."
  type        = string
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the runtime's metrics (ctc run --cloudwatch)."
  type        = string
}

variable "app" {
  description = "The runtime's application name (the Application dimension; ctc run's default is ctc)."
  type        = string
  default     = "ctc"
}

variable "stream_name" {
  description = "Name of the trade stream."
  type        = string
}

variable "api_function_name" {
  description = "Name of the API function."
  type        = string
}

variable "state_machine_arn" {
  description = "ARN of the daily batch state machine."
  type        = string
}

variable "alerts_table_name" {
  description = "Name of the hot store's alerts table."
  type        = string
}

variable "alarm_emails" {
  description = "Addresses subscribed to the alarm topic (each must confirm by email)."
  type        = list(string)
  default     = []
}

variable "kms_key_arn" {
  description = "The project's KMS key."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
