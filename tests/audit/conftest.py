"""The review fixtures (stored submissions) serve the operations tests too."""

from tests.review.conftest import add_submission

__all__ = ["add_submission"]
