"""Notifier: live streams of applications' status changes for watchers (SPEC §9)."""
