# The producer: `ctc ingest` (exchange websockets → Kinesis) in a container on ECS Fargate,
# built from infra/docker/producer.Dockerfile and pushed to this module's ECR repository.
# Its task role may only put records on the trade stream.

data "aws_region" "current" {}

locals {
  # The container's arguments after the image's ENTRYPOINT ["ctc"] (tests/infra checks
  # them against `ctc ingest`'s options).
  command = [
    "ingest",
    "--exchanges", var.exchanges,
    "--symbols", var.symbols,
    "--sink", "kinesis:${var.stream_name}",
    "--region", data.aws_region.current.name,
  ]
}

resource "aws_ecr_repository" "producer" {
  name                 = "${var.prefix}-producer"
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }
  tags = var.tags
}

resource "aws_ecr_lifecycle_policy" "producer" {
  repository = aws_ecr_repository.producer.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "keep the last 10 images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 10 }
      action       = { type = "expire" }
    }]
  })
}

resource "aws_ecs_cluster" "producer" {
  name = "${var.prefix}-producer"
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
  tags = var.tags
}

resource "aws_cloudwatch_log_group" "producer" {
  name              = "/ctc/${var.prefix}/producer"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "ecs_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "task" {
  name               = "${var.prefix}-producer-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "task" {
  statement {
    sid       = "PutRecordsOnTheTradeStream"
    actions   = ["kinesis:PutRecords"]
    resources = [var.stream_arn]
  }
  statement {
    sid       = "EncryptRecordsWithTheStreamKey"
    actions   = ["kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "ctc-producer"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

resource "aws_iam_role" "execution" {
  name               = "${var.prefix}-producer-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "PullTheProducerImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [aws_ecr_repository.producer.arn]
  }
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # GetAuthorizationToken has no resource-level permissions
  }
  statement {
    sid       = "DecryptTheImage"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
  statement {
    sid       = "ContainerLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.producer.arn}:*"]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "ctc-producer-execution"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_ecs_task_definition" "producer" {
  family                   = "${var.prefix}-producer"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  task_role_arn            = aws_iam_role.task.arn
  execution_role_arn       = aws_iam_role.execution.arn

  container_definitions = jsonencode([{
    name                   = "producer"
    image                  = "${aws_ecr_repository.producer.repository_url}:${var.image_tag}"
    essential              = true
    command                = local.command
    readonlyRootFilesystem = true
    user                   = "10001"
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.producer.name
        "awslogs-region"        = data.aws_region.current.name
        "awslogs-stream-prefix" = "producer"
      }
    }
  }])

  tags = var.tags
}

resource "aws_security_group" "producer" {
  name        = "${var.prefix}-producer"
  description = "ctc producer: outbound HTTPS/WSS only (exchanges, Kinesis)"
  vpc_id      = var.vpc_id

  egress {
    description = "HTTPS and secure websockets to the exchanges and AWS endpoints"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = var.tags
}

resource "aws_ecs_service" "producer" {
  #checkov:skip=CKV_AWS_333:No NAT gateway by design (the seeds' serverless, no-VPC architecture, ~$32/month saved): the task takes a public IP to reach the exchanges; its security group admits no inbound traffic
  name            = "${var.prefix}-producer"
  cluster         = aws_ecs_cluster.producer.id
  task_definition = aws_ecs_task_definition.producer.arn
  desired_count   = var.desired_count
  launch_type     = "FARGATE"

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.producer.id]
    assign_public_ip = true
  }

  tags = var.tags
}
