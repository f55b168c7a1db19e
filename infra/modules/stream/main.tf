# The trade stream: Kinesis Data Streams in on-demand mode, encrypted with the project key.
# The producer (`ctc ingest --sink kinesis:NAME`) writes it; the EMR job reads it
# (`ctc run --source kinesis:NAME?region=R`).

resource "aws_kinesis_stream" "trades" {
  name             = "${var.prefix}-trades"
  retention_period = var.retention_hours
  encryption_type  = "KMS"
  kms_key_id       = var.kms_key_arn

  stream_mode_details {
    stream_mode = "ON_DEMAND"
  }

  tags = var.tags
}
