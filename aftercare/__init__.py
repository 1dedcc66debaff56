"""Aftercare: after-sales follow-up for online shops."""
