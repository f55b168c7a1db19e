output "repository_url" {
  description = "ECR repository of the producer image."
  value       = aws_ecr_repository.producer.repository_url
}

output "cluster_name" {
  description = "ECS cluster of the producer."
  value       = aws_ecs_cluster.producer.name
}

output "service_name" {
  description = "ECS service of the producer."
  value       = aws_ecs_service.producer.name
}

output "task_role_arn" {
  description = "The producer's task role."
  value       = aws_iam_role.task.arn
}
