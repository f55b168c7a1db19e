# The project's data buckets: lake (the Iceberg warehouse), checkpoints (the stream's
# checkpoint and state), artifacts (job bundles, the API's code, EMR logs), and the bucket
# that receives every bucket's access logs. The dashboard module owns the dashboard bucket.

module "lake" {
  source             = "../bucket"
  name               = "${var.prefix}-lake-${var.bucket_suffix}"
  kms_key_arn        = var.kms_key_arn
  log_bucket         = aws_s3_bucket.logs.id
  noncurrent_days    = 30
  transition_ia_days = 30
  force_destroy      = var.force_destroy
  tags               = merge(var.tags, { Purpose = "lake" })
}

module "checkpoints" {
  source          = "../bucket"
  name            = "${var.prefix}-checkpoints-${var.bucket_suffix}"
  kms_key_arn     = var.kms_key_arn
  log_bucket      = aws_s3_bucket.logs.id
  noncurrent_days = 7
  force_destroy   = var.force_destroy
  tags            = merge(var.tags, { Purpose = "checkpoints" })
}

module "artifacts" {
  source          = "../bucket"
  name            = "${var.prefix}-artifacts-${var.bucket_suffix}"
  kms_key_arn     = var.kms_key_arn
  log_bucket      = aws_s3_bucket.logs.id
  noncurrent_days = 30
  expire_prefixes = { "logs/" = var.log_retention_days }
  force_destroy   = var.force_destroy
  tags            = merge(var.tags, { Purpose = "artifacts" })
}

# -- access logs --------------------------------------------------------------------------

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_18:This is the access-log target; logging it into itself would loop
  #checkov:skip=CKV_AWS_144:Cross-region replication of access logs is out of scope (single region)
  #checkov:skip=CKV_AWS_145:S3 server access logging delivers only to SSE-S3 buckets, not SSE-KMS
  #checkov:skip=CKV2_AWS_62:No consumer of S3 event notifications exists for the logs
  bucket        = "${var.prefix}-logs-${var.bucket_suffix}"
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { Purpose = "access-logs" })
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  #checkov:skip=CKV2_AWS_65:CloudFront standard logging writes with ACLs, so this one bucket keeps them (BucketOwnerPreferred); public ACLs stay blocked
  bucket = aws_s3_bucket.logs.id
  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    id     = "expire-access-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
  }
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/s3/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
  }
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs.json
}
