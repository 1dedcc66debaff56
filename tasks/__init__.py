"""Prefect tasks: thin I/O units that read a batch, call an API, or write a batch."""
