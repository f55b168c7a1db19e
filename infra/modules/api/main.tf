# The read API: ctc.serve.aws_lambda.lambda_handler (the same handler as `ctc serve`) on
# Lambda behind an API Gateway HTTP API. Terraform creates the function with bootstrap
# code that answers 503; `ctc deploy` uploads the package and updates the function's code.

data "aws_region" "current" {}

data "archive_file" "bootstrap" {
  type        = "zip"
  source_dir  = "${path.module}/bootstrap"
  output_path = "${path.root}/.terraform/ctc-api-bootstrap.zip"
}

resource "aws_cloudwatch_log_group" "function" {
  name              = "/aws/lambda/${var.prefix}-api"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  name               = "${var.prefix}-api"
  assume_role_policy = data.aws_iam_policy_document.trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "function" {
  statement {
    sid       = "ReadTheHotStore"
    actions   = ["dynamodb:Query", "dynamodb:GetItem"]
    resources = concat(var.table_arns, [for arn in var.table_arns : "${arn}/index/*"])
  }
  statement {
    sid       = "DecryptTheHotStoreAndEnvironment"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
  statement {
    sid       = "FunctionLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function.arn}:*"]
  }
  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"] # X-Ray has no resource-level permissions
  }
}

resource "aws_iam_role_policy" "function" {
  name   = "ctc-api"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.function.json
}

resource "aws_lambda_function" "api" {
  #checkov:skip=CKV_AWS_116:A synchronous API behind API Gateway: a failed request is answered to the caller, there is no asynchronous event to dead-letter
  #checkov:skip=CKV_AWS_117:No VPC by design (seeds, section 7): the function reaches DynamoDB's public endpoint over TLS with IAM
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile; the package is built and uploaded by ctc deploy from a reviewed commit
  function_name                  = "${var.prefix}-api"
  role                           = aws_iam_role.function.arn
  runtime                        = "python3.11"
  handler                        = "ctc.serve.aws_lambda.lambda_handler"
  filename                       = data.archive_file.bootstrap.output_path
  source_code_hash               = data.archive_file.bootstrap.output_base64sha256
  memory_size                    = var.memory_mb
  timeout                        = 10
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = {
      CTC_STORE_URL = "dynamodb://${var.table_prefix}?region=${data.aws_region.current.name}"
      CTC_APP       = var.status_app
    }
  }

  tracing_config {
    mode = "Active"
  }

  # ctc deploy owns the code after the first apply.
  lifecycle {
    ignore_changes = [filename, source_code_hash, s3_bucket, s3_key, s3_object_version]
  }

  depends_on = [aws_cloudwatch_log_group.function]
  tags       = var.tags
}

resource "aws_apigatewayv2_api" "http" {
  name          = "${var.prefix}-api"
  protocol_type = "HTTP"
  description   = "ctc read API (GET /alerts, /metrics/{symbol}, /series, /catalog, /health)"
  tags          = var.tags
}

resource "aws_apigatewayv2_integration" "lambda" {
  api_id                 = aws_apigatewayv2_api.http.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.api.invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_route" "all" {
  #checkov:skip=CKV_AWS_309:A public read-only API of public market data, as the seeds' portfolio deployment has it; throttled at the stage; the handler answers only GET/HEAD/OPTIONS
  api_id    = aws_apigatewayv2_api.http.id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.lambda.id}"
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/ctc/${var.prefix}/api-access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.http.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit = var.throttle_burst
    throttling_rate_limit  = var.throttle_rate
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId = "$context.requestId"
      ip        = "$context.identity.sourceIp"
      time      = "$context.requestTime"
      method    = "$context.httpMethod"
      path      = "$context.path"
      status    = "$context.status"
      latencyMs = "$context.responseLatency"
    })
  }

  tags = var.tags
}

resource "aws_lambda_permission" "api_gateway" {
  statement_id  = "AllowHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.api.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.http.execution_arn}/*/*"
}
