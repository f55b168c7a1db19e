variable "region" {
  description = "AWS region of the deployment."
  type        = string
  default     = "eu-west-1"
}

variable "prefix" {
  description = "Name prefix of every resource (letters, digits, hyphens); also the hot store's table prefix."
  type        = string
  default     = "ctc-dev"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.prefix))
    error_message = "prefix: 2-21 lower-case letters, digits or hyphens, starting with a letter (it is part of bucket names)."
  }
}

variable "environment" {
  description = "Environment tag."
  type        = string
  default     = "dev"
}

variable "extra_tags" {
  description = "More tags for every resource."
  type        = map(string)
  default     = {}
}

variable "app" {
  description = "The runtime's application name (status entry, metrics dimension)."
  type        = string
  default     = "ctc"
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of ctc's metrics."
  type        = string
  default     = "CTC"
}

variable "emr_max_vcpu" {
  description = "EMR Serverless maximum capacity: vCPU."
  type        = string
  default     = "16 vCPU"
}

variable "emr_max_memory" {
  description = "EMR Serverless maximum capacity: memory."
  type        = string
  default     = "64 GB"
}

variable "emr_image_uri" {
  description = "Optional custom EMR Serverless image (see docs/deploy.md); empty: the release's image."
  type        = string
  default     = ""
}

variable "producer_image_tag" {
  description = "Tag of the producer image in ECR."
  type        = string
  default     = "0.1.0"
}

variable "producer_desired_count" {
  description = "Producer tasks: 0 until the image is pushed, then 1."
  type        = number
  default     = 0
}

variable "vpc_id" {
  description = "VPC of the producer; empty: the default VPC."
  type        = string
  default     = ""
}

variable "subnet_ids" {
  description = "Public subnets of the producer; empty: the default VPC's default subnets."
  type        = list(string)
  default     = []
}

variable "batch_schedule_enabled" {
  description = "Run the daily batch at 02:00 UTC (off by default)."
  type        = bool
  default     = false
}

variable "alarm_emails" {
  description = "Addresses that receive the alarms."
  type        = list(string)
  default     = []
}

variable "billing_alarm_usd" {
  description = "Billing alarm threshold (USD per month, estimated)."
  type        = number
  default     = 25
}

variable "analyst_role_arns" {
  description = "Roles granted read access to the lake through Lake Formation."
  type        = list(string)
  default     = []
}

variable "lakeformation_admins" {
  description = "If set, REPLACES the account's Lake Formation administrators (include the ARN that runs terraform)."
  type        = list(string)
  default     = []
}

variable "force_destroy" {
  description = "Let terraform destroy delete non-empty buckets (dev only)."
  type        = bool
  default     = true
}
