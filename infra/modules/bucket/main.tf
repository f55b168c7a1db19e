# One private bucket: encrypted (the project's KMS key, or SSE-S3 when kms_key_arn is
# empty), versioned, public access blocked, ACLs disabled, TLS only, access-logged, with
# lifecycle rules. The storage module makes the project's four with it.

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is out of scope for a single-region deployment (docs/deploy.md); the lake can be rebuilt from the stream's raw_trades table and the exchanges' history
  #checkov:skip=CKV2_AWS_62:No consumer of S3 event notifications exists; nothing reacts to new objects
  #checkov:skip=CKV_AWS_145:Only the dashboard bucket uses SSE-S3 (a public site behind CloudFront OAC, which cannot read SSE-KMS objects without the distribution in the key policy); the others use the project's KMS key below
  #checkov:skip=CKV_AWS_19:Every bucket is encrypted by default (aws_s3_bucket_server_side_encryption_configuration.this: the KMS key, or SSE-S3 for the dashboard); checkov cannot resolve that conditional
  bucket        = var.name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == "" ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn == "" ? null : var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != ""
  }
}

resource "aws_s3_bucket_logging" "this" {
  bucket        = aws_s3_bucket.this.id
  target_bucket = var.log_bucket
  target_prefix = "s3/${var.name}/"
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  # Old versions only: the current objects of a live checkpoint or table must never expire.
  rule {
    id     = "noncurrent-versions-and-failed-uploads"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
  }

  dynamic "rule" {
    for_each = var.transition_ia_days > 0 ? [var.transition_ia_days] : []
    content {
      id     = "infrequent-access"
      status = "Enabled"
      filter {}
      transition {
        days          = rule.value
        storage_class = "STANDARD_IA"
      }
      abort_incomplete_multipart_upload {
        days_after_initiation = 2
      }
    }
  }

  dynamic "rule" {
    for_each = var.expire_prefixes
    content {
      id     = "expire-${trimsuffix(rule.key, "/")}"
      status = "Enabled"
      filter {
        prefix = rule.key
      }
      expiration {
        days = rule.value
      }
      abort_incomplete_multipart_upload {
        days_after_initiation = 2
      }
    }
  }
}

data "aws_iam_policy_document" "tls_only" {
  source_policy_documents = var.extra_policy_json == "" ? [] : [var.extra_policy_json]
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
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

resource "aws_s3_bucket_policy" "this" {
  bucket     = aws_s3_bucket.this.id
  policy     = data.aws_iam_policy_document.tls_only.json
  depends_on = [aws_s3_bucket_public_access_block.this]
}
