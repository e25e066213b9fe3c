"""Packed sequences (filled in below)."""
