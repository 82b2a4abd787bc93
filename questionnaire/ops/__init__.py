"""Running the service: key rotation, retention, urgent alerts, and gunicorn's settings."""
