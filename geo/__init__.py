"""Geometry, distances and spatial SQL: everything that knows about coordinates lives here."""
