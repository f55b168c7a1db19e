# The hot store of ctc.sinks.stores.dynamodb_store: <prefix>-alerts, -market, -status,
# -windows and -catalog, on-demand, encrypted with the project key. Keys, GSIs and TTL are
# exactly those DynamoDBAlertStore.create_tables makes (tests/infra checks they match), so
# the runtime and the API need no CreateTable in AWS.

locals {
  # GSIs of the alerts table: every one sorts on detected_at_id (detected_at#alert_id).
  alert_indexes = {
    "type-time"   = "alert_type"
    "symbol-time" = "symbol"
    "all-time"    = "all_pk"
  }
}

resource "aws_dynamodb_table" "alerts" {
  name         = "${var.prefix}-alerts"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "alert_id"
  range_key    = "detected_at"

  attribute {
    name = "alert_id"
    type = "S"
  }
  attribute {
    name = "detected_at"
    type = "S"
  }
  attribute {
    name = "detected_at_id"
    type = "S"
  }
  attribute {
    name = "alert_type"
    type = "S"
  }
  attribute {
    name = "symbol"
    type = "S"
  }
  attribute {
    name = "all_pk"
    type = "S"
  }

  dynamic "global_secondary_index" {
    for_each = local.alert_indexes
    content {
      name            = global_secondary_index.key
      hash_key        = global_secondary_index.value
      range_key       = "detected_at_id"
      projection_type = "ALL"
    }
  }

  ttl {
    attribute_name = "ttl_epoch"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

resource "aws_dynamodb_table" "market" {
  name         = "${var.prefix}-market"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "symbol"
  range_key    = "exchange"

  attribute {
    name = "symbol"
    type = "S"
  }
  attribute {
    name = "exchange"
    type = "S"
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

resource "aws_dynamodb_table" "status" {
  name         = "${var.prefix}-status"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "app"

  attribute {
    name = "app"
    type = "S"
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

resource "aws_dynamodb_table" "windows" {
  name         = "${var.prefix}-windows"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "series"
  range_key    = "window_key"

  attribute {
    name = "series"
    type = "S"
  }
  attribute {
    name = "window_key"
    type = "S"
  }

  ttl {
    attribute_name = "ttl_epoch"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

resource "aws_dynamodb_table" "catalog" {
  name         = "${var.prefix}-catalog"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "facet"
  range_key    = "value"

  attribute {
    name = "facet"
    type = "S"
  }
  attribute {
    name = "value"
    type = "S"
  }

  ttl {
    attribute_name = "ttl_epoch"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}
