variable "prefix" {
  description = "Name prefix of every resource, e.g. ctc-dev."
  type        = string
}

variable "threshold_usd" {
  description = "Alarm when the month's estimated charges exceed this (USD)."
  type        = number
  default     = 25
}

variable "alarm_emails" {
  description = "Addresses subscribed to the billing topic."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
