"""The HTTP receiver for what providers push to us: courier tracking pushes, buyers' SMS replies."""
