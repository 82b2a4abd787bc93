"""The clinician's side: the queue, a submission, actions, audit and exports."""

from questionnaire.review.routes import bp

__all__ = ["bp"]
