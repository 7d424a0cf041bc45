"""bureau-gateway: six simulated credit bureaus behind one adapter interface, with deadlines, retries,
a circuit breaker per bureau and fallback reports (SPEC §7)."""
