# An example environment: everything ctc needs in one AWS account and region.
# Apply, then `terraform output -json > ctc-outputs.json` and `ctc deploy --outputs
# ctc-outputs.json` (docs/deploy.md).

data "aws_caller_identity" "current" {}

data "aws_vpc" "default" {
  count   = var.vpc_id == "" ? 1 : 0
  default = true
}

data "aws_subnets" "default" {
  count = length(var.subnet_ids) == 0 ? 1 : 0
  filter {
    name   = "vpc-id"
    values = [local.vpc_id]
  }
  filter {
    name   = "default-for-az"
    values = ["true"]
  }
}

locals {
  tags = merge({
    Project     = "ctc"
    Environment = var.environment
    ManagedBy   = "terraform"
  }, var.extra_tags)
  vpc_id        = var.vpc_id != "" ? var.vpc_id : data.aws_vpc.default[0].id
  subnet_ids    = length(var.subnet_ids) > 0 ? var.subnet_ids : data.aws_subnets.default[0].ids
  database_name = replace(var.prefix, "-", "_")
  # Jars of the EMR image the jobs put on the class path: Iceberg's Spark runtime
  # (ctc.sinks.lake.spark_conf.EMR_ICEBERG_JAR) and the Kinesis connector.
  emr_jars = [
    "/usr/share/aws/iceberg/lib/iceberg-spark3-runtime.jar",
    "/usr/share/aws/kinesis/spark-sql-kinesis/lib/spark-streaming-sql-kinesis-connector.jar",
  ]
}

module "kms" {
  source = "../../modules/kms"
  prefix = var.prefix
  tags   = local.tags
}

module "storage" {
  source        = "../../modules/storage"
  prefix        = var.prefix
  bucket_suffix = data.aws_caller_identity.current.account_id
  kms_key_arn   = module.kms.key_arn
  force_destroy = var.force_destroy
  tags          = local.tags
}

module "stream" {
  source      = "../../modules/stream"
  prefix      = var.prefix
  kms_key_arn = module.kms.key_arn
  tags        = local.tags
}

module "hot_store" {
  source      = "../../modules/hot_store"
  prefix      = var.prefix
  kms_key_arn = module.kms.key_arn
  tags        = local.tags
}

module "emr" {
  source                 = "../../modules/emr"
  prefix                 = var.prefix
  max_vcpu               = var.emr_max_vcpu
  max_memory             = var.emr_max_memory
  image_uri              = var.emr_image_uri
  artifacts_bucket_arn   = module.storage.bucket_arns["artifacts"]
  checkpoints_bucket_arn = module.storage.bucket_arns["checkpoints"]
  lake_bucket_arn        = module.storage.bucket_arns["lake"]
  stream_arn             = module.stream.stream_arn
  table_arns             = values(module.hot_store.table_arns)
  database_name          = local.database_name
  kms_key_arn            = module.kms.key_arn
  metrics_namespace      = var.metrics_namespace
  tags                   = local.tags
}

module "catalog" {
  source               = "../../modules/catalog"
  database_name        = local.database_name
  lake_bucket          = module.storage.bucket_names["lake"]
  lake_bucket_arn      = module.storage.bucket_arns["lake"]
  writer_role_arn      = module.emr.job_role_arn
  reader_role_arns     = var.analyst_role_arns
  lakeformation_admins = var.lakeformation_admins
  tags                 = local.tags
}

module "producer" {
  source        = "../../modules/producer"
  prefix        = var.prefix
  stream_name   = module.stream.stream_name
  stream_arn    = module.stream.stream_arn
  kms_key_arn   = module.kms.key_arn
  image_tag     = var.producer_image_tag
  desired_count = var.producer_desired_count
  vpc_id        = local.vpc_id
  subnet_ids    = local.subnet_ids
  tags          = local.tags
}

module "api" {
  source       = "../../modules/api"
  prefix       = var.prefix
  table_prefix = module.hot_store.table_prefix
  table_arns   = values(module.hot_store.table_arns)
  status_app   = var.app
  kms_key_arn  = module.kms.key_arn
  tags         = local.tags
}

module "dashboard" {
  source        = "../../modules/dashboard"
  prefix        = var.prefix
  bucket_suffix = data.aws_caller_identity.current.account_id
  api_endpoint  = module.api.api_endpoint
  log_bucket    = module.storage.logs_bucket
  force_destroy = var.force_destroy
  tags          = local.tags
}

module "monitoring" {
  source            = "../../modules/monitoring"
  prefix            = var.prefix
  metrics_namespace = var.metrics_namespace
  app               = var.app
  stream_name       = module.stream.stream_name
  api_function_name = module.api.function_name
  state_machine_arn = module.batch.state_machine_arn
  alerts_table_name = "${module.hot_store.table_prefix}-alerts"
  alarm_emails      = var.alarm_emails
  kms_key_arn       = module.kms.key_arn
  tags              = local.tags
}

module "batch" {
  source            = "../../modules/batch"
  prefix            = var.prefix
  application_id    = module.emr.application_id
  application_arn   = module.emr.application_arn
  job_role_arn      = module.emr.job_role_arn
  artifacts_bucket  = module.storage.bucket_names["artifacts"]
  extra_jars        = local.emr_jars
  metrics_namespace = var.metrics_namespace
  alarm_topic_arn   = module.monitoring.alarm_topic_arn
  kms_key_arn       = module.kms.key_arn
  schedule_enabled  = var.batch_schedule_enabled
  # the stream's sink (ctc.deploy.job.stream_arguments), for the batch detectors
  store_url = "dynamodb://${module.hot_store.table_prefix}?region=${var.region}"
  lake_url  = "glue://${module.catalog.database_name}?warehouse=${module.catalog.warehouse}&region=${var.region}&packages=false"
  tags      = local.tags
}

module "billing" {
  source        = "../../modules/billing"
  providers     = { aws = aws.us_east_1 }
  prefix        = var.prefix
  threshold_usd = var.billing_alarm_usd
  alarm_emails  = var.alarm_emails
  tags          = local.tags
}
