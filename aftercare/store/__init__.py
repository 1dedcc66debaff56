"""Data functions: batched reads and writes the tasks call, each taking a session."""
