"""The HTTP receiver for what providers push to us (buyers' SMS replies)."""
