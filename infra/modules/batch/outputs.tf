output "state_machine_arn" {
  description = "ARN of the daily batch state machine."
  value       = aws_sfn_state_machine.batch.arn
}
