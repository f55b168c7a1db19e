# The dashboard: the committed build (ctc/serve/static, uploaded by `ctc deploy`) in the
# dashboard bucket behind CloudFront, with the API under /api/* on the same origin, so the
# site's default API base ("/api") works unchanged.

locals {
  s3_origin  = "dashboard-s3"
  api_origin = "api"
  # AWS managed policies (IDs are fixed across accounts).
  caching_optimized      = "658327ea-f89d-4fab-a63d-7e88639e58f6"
  caching_disabled       = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
  all_viewer_except_host = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
}

module "site" {
  source            = "../bucket"
  name              = "${var.prefix}-dashboard-${var.bucket_suffix}"
  log_bucket        = var.log_bucket
  noncurrent_days   = 30
  extra_policy_json = data.aws_iam_policy_document.cloudfront_read.json
  force_destroy     = var.force_destroy
  tags              = merge(var.tags, { Purpose = "dashboard" })
}

resource "aws_cloudfront_response_headers_policy" "security" {
  name    = "${var.prefix}-security-headers"
  comment = "HSTS, no sniffing, no framing, strict referrer"
  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }
    content_type_options {
      override = true
    }
    frame_options {
      frame_option = "DENY"
      override     = true
    }
    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }
  }
}

resource "aws_cloudfront_origin_access_control" "dashboard" {
  name                              = "${var.prefix}-dashboard"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_distribution" "dashboard" {
  #checkov:skip=CKV_AWS_68:WAF costs ~$6/month plus requests; the site is static and the API is throttled at API Gateway. Add a web ACL for production (docs/deploy.md)
  #checkov:skip=CKV2_AWS_47:No WAF (see CKV_AWS_68); the API is Python, not Log4j
  #checkov:skip=CKV_AWS_174:The default *.cloudfront.net certificate is used (no custom domain); it negotiates TLS 1.2+ with current clients. Set a custom domain and TLSv1.2_2021 for production
  #checkov:skip=CKV2_AWS_42:No custom domain in the example environment (see CKV_AWS_174)
  #checkov:skip=CKV_AWS_310:One origin per behaviour: S3 and API Gateway are regional services with their own redundancy; a failover origin would need a second region
  #checkov:skip=CKV_AWS_374:The dashboard is public market data; no geo restriction is wanted
  enabled             = true
  comment             = "${var.prefix} dashboard and API"
  default_root_object = "index.html"
  price_class         = "PriceClass_100"

  origin {
    origin_id                = local.s3_origin
    domain_name              = module.site.regional_domain
    origin_access_control_id = aws_cloudfront_origin_access_control.dashboard.id
  }

  origin {
    origin_id   = local.api_origin
    domain_name = replace(var.api_endpoint, "https://", "")
    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
    }
  }

  default_cache_behavior {
    target_origin_id           = local.s3_origin
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = local.caching_optimized
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id
    compress                   = true
  }

  ordered_cache_behavior {
    path_pattern               = "/api/*"
    target_origin_id           = local.api_origin
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = local.caching_disabled
    origin_request_policy_id   = local.all_viewer_except_host
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id
    compress                   = true
  }

  logging_config {
    bucket          = "${var.log_bucket}.s3.amazonaws.com"
    prefix          = "cloudfront/"
    include_cookies = false
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = true
    minimum_protocol_version       = "TLSv1.2_2021"
  }

  tags = var.tags
}

data "aws_iam_policy_document" "cloudfront_read" {
  statement {
    sid       = "CloudFrontReadsTheSite"
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::${var.prefix}-dashboard-${var.bucket_suffix}/*"]
    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.dashboard.arn]
    }
  }
}
