"""Clinician pages: parse the request, call a service, render. Every route needs a sign-in
(the auth guard denies by default); admin pages say so with admin_required.

One blueprint (`review`, under /clinic), its routes split by concern; importing this
package attaches every one of them to `bp`.
"""

from questionnaire.review.routes import (  # noqa: F401 - each module attaches its routes to bp
    audit,
    dashboard,
    desk,
    downloads,
    exports,
    queue,
    requests,
    submission,
    unsent,
)
from questionnaire.review.routes.blueprint import bp

__all__ = ["bp"]
