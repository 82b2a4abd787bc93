"""The patient's side: the start page and the questionnaire pages."""

from questionnaire.intake.routes import bp

__all__ = ["bp"]
