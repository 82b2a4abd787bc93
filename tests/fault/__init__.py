"""Fault-injection tests: a real PostgreSQL cluster and gunicorn, broken on purpose."""
