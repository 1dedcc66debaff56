"""The application above the flows: the command line and the demo."""
