"""Scoring proposals against gold (../shared/gold/SCHEME.md § Scoring)."""
