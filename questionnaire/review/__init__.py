"""The clinician's side: the queue, a submission, actions, audit and exports."""

from questionnaire.review import exports as _exports  # noqa: F401 - registers its routes
from questionnaire.review import request_pages as _requests  # noqa: F401 - registers its routes
from questionnaire.review.routes import bp

__all__ = ["bp"]
