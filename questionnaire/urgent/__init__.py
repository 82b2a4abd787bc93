"""Urgent intakes that must reach the clinic: unsent urgent drafts, and the alerts sweep."""
