"""The bank webhook shim: receives banks' signed confirmations (Standard Webhooks) over HTTP and records
them in intake through `IntakeService.RecordBankConfirmation` (SPEC §8)."""
