"""The review fixtures (clinicians signed in, stored submissions) serve the urgent tests too."""

from tests.review.conftest import add_submission, admin, as_admin, as_reviewer, reviewer

__all__ = ["add_submission", "admin", "as_admin", "as_reviewer", "reviewer"]
