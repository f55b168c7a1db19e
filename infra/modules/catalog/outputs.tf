output "database_name" {
  description = "The Glue database of the lake."
  value       = aws_glue_catalog_database.lake.name
}

output "warehouse" {
  description = "The Iceberg warehouse URI."
  value       = "s3://${var.lake_bucket}/${var.warehouse_prefix}"
}
