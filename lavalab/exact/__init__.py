"""Exact-spike-time networks (BATS): spec, event-driven forward/backward, training."""
