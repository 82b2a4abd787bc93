"""Signing in: the password, then the code; signing out; the clinician pages' language."""
