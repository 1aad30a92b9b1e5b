"""Systemic monitoring (DESIGN §10b): the platform's activity read for silent offices. Pure."""
