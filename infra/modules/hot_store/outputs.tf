output "table_prefix" {
  description = "The store's table prefix (dynamodb://PREFIX)."
  value       = var.prefix
}

output "table_arns" {
  description = "ARNs of the five tables, by role."
  value = {
    alerts  = aws_dynamodb_table.alerts.arn
    market  = aws_dynamodb_table.market.arn
    status  = aws_dynamodb_table.status.arn
    windows = aws_dynamodb_table.windows.arn
    catalog = aws_dynamodb_table.catalog.arn
  }
}
