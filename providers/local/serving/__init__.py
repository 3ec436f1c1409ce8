"""Scoring rows with a model version, and the local endpoint's HTTP server."""
