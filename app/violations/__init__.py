"""Violations: judging reports against the mandated hours, and the cases the committee decides."""
