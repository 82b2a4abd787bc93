"""Submissions leaving the app: CSV files, FHIR resources, and the public FHIR views."""
