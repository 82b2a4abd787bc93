"""The patient's side: the start page and the questionnaire pages."""

from questionnaire.intake.views import bp

__all__ = ["bp"]
