variable "database_name" {
  description = "Glue database (the lake's namespace): letters, digits and _ only."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]*$", var.database_name))
    error_message = "database_name: letters, digits and _ only (ctc's glue:// URL needs an identifier)."
  }
}

variable "lake_bucket" {
  description = "Name of the lake bucket."
  type        = string
}

variable "lake_bucket_arn" {
  description = "ARN of the lake bucket (registered with Lake Formation)."
  type        = string
}

variable "warehouse_prefix" {
  description = "Key prefix of the Iceberg warehouse in the lake bucket."
  type        = string
  default     = "warehouse"
}

variable "writer_role_arn" {
  description = "The EMR job role: creates, alters and writes the tables."
  type        = string
}

variable "reader_role_arns" {
  description = "Roles that may read every table (analysts, Athena users)."
  type        = list(string)
  default     = []
}

variable "lakeformation_admins" {
  description = "If set, REPLACES the account's Lake Formation administrators with these ARNs. Leave empty when an administrator exists."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
