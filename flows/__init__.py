"""Prefect flows, one per business pipeline; flows only orchestrate."""
