output "function_name" {
  description = "Name of the API function."
  value       = aws_lambda_function.api.function_name
}

output "function_arn" {
  description = "ARN of the API function."
  value       = aws_lambda_function.api.arn
}

output "api_endpoint" {
  description = "Base URL of the HTTP API."
  value       = aws_apigatewayv2_api.http.api_endpoint
}
