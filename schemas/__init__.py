"""Marshmallow schemas: the wire format. Separate read, create and update schemas."""
