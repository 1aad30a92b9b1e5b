"""Mandated hours: the Jalali calendar, holidays and the rules that say when offices must be open."""
