variable "prefix" {
  description = "Name prefix of every resource, e.g. ctc-dev."
  type        = string
}

variable "stream_name" {
  description = "Name of the trade stream."
  type        = string
}

variable "stream_arn" {
  description = "ARN of the trade stream (the task role's only Kinesis resource)."
  type        = string
}

variable "kms_key_arn" {
  description = "The project's KMS key (the stream's and the image repository's)."
  type        = string
}

variable "exchanges" {
  description = "Connectors to run (ctc ingest --exchanges)."
  type        = string
  default     = "binance,coinbase"
}

variable "symbols" {
  description = "Symbols to follow (ctc ingest --symbols)."
  type        = string
  default     = "btc,eth,sol"
}

variable "image_tag" {
  description = "Tag of the producer image in the module's ECR repository (tags are immutable: a new build is a new tag)."
  type        = string
  default     = "0.1.0"
}

variable "desired_count" {
  description = "Running producer tasks: 1 (two would send every trade twice; the runtime drops duplicates by event_id, but pays for them). 0 until an image is pushed."
  type        = number
  default     = 0
}

variable "cpu" {
  description = "Fargate task CPU units."
  type        = number
  default     = 256
}

variable "memory" {
  description = "Fargate task memory (MiB)."
  type        = number
  default     = 512
}

variable "vpc_id" {
  description = "VPC of the producer task."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the producer task (public, with a route to the internet)."
  type        = list(string)
}

variable "log_retention_days" {
  description = "Days to keep the producer's logs."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
