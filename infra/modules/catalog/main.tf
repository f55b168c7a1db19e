# The Glue database that Spark's Iceberg catalog writes (`ctc run --lake glue://DB?...`),
# and Lake Formation: the lake bucket registered in hybrid mode, the job role's database-
# and table-level permissions. The runtime creates the Iceberg tables itself
# (ensure_core_tables, ensure_plan_tables), so Terraform grants the right to create them
# instead of declaring them: a new detector's output table needs no Terraform change.

resource "aws_glue_catalog_database" "lake" {
  name         = var.database_name
  description  = "ctc lake: anomaly_alerts, raw_trades, dead_letters and one table per detector (Iceberg)"
  location_uri = "s3://${var.lake_bucket}/${var.warehouse_prefix}/${var.database_name}.db"
  tags         = var.tags
}

resource "aws_lakeformation_data_lake_settings" "admins" {
  # Replaces the account's Lake Formation administrators: only when asked.
  count  = length(var.lakeformation_admins) > 0 ? 1 : 0
  admins = var.lakeformation_admins
}

resource "aws_lakeformation_resource" "lake" {
  arn                     = var.lake_bucket_arn
  use_service_linked_role = true
  hybrid_access_enabled   = true
  depends_on              = [aws_lakeformation_data_lake_settings.admins]
}

resource "aws_lakeformation_permissions" "writer_database" {
  principal   = var.writer_role_arn
  permissions = ["CREATE_TABLE", "ALTER", "DESCRIBE"]
  database {
    name = aws_glue_catalog_database.lake.name
  }
}

resource "aws_lakeformation_permissions" "writer_tables" {
  principal   = var.writer_role_arn
  permissions = ["SELECT", "INSERT", "DELETE", "ALTER", "DESCRIBE"]
  table {
    database_name = aws_glue_catalog_database.lake.name
    wildcard      = true
  }
}

resource "aws_lakeformation_permissions" "writer_location" {
  principal   = var.writer_role_arn
  permissions = ["DATA_LOCATION_ACCESS"]
  data_location {
    arn = aws_lakeformation_resource.lake.arn
  }
}

resource "aws_lakeformation_permissions" "reader_database" {
  for_each    = toset(var.reader_role_arns)
  principal   = each.value
  permissions = ["DESCRIBE"]
  database {
    name = aws_glue_catalog_database.lake.name
  }
}

resource "aws_lakeformation_permissions" "reader_tables" {
  for_each    = toset(var.reader_role_arns)
  principal   = each.value
  permissions = ["SELECT", "DESCRIBE"]
  table {
    database_name = aws_glue_catalog_database.lake.name
    wildcard      = true
  }
}
