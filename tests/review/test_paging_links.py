"""Crafted paging values: every cursor and filter parses into a bounded typed value, or a 400."""

from __future__ import annotations

import base64

import pytest
from flask.testing import FlaskClient

from tests.fixtures import AddSubmission

NOT_VALID = "That page link is not valid"


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


CRAFTED_AFTER = [
    cursor("0|2026-06-01T12:00:00+00:00|99999999999999999999"),
    cursor("0|2026-06-01T12:00:00+00:00|2147483648"),
    cursor("0|9999-12-31T23:59:59-14:00|1"),
    cursor("0|0001-01-01T00:00:00+14:00|1"),
    cursor("0|2026-06-01T12:00:00|1"),
    cursor("7|2026-06-01T12:00:00+00:00|1"),
    cursor("0|2026-06-01T12:00:00+00:00|-1"),
    cursor("0|2026-06-01T12:00:00+00:00|\u0661"),
    cursor("0|2026-06-01T12:00:00+00:00|1_0"),
    "!!!",
]


@pytest.mark.parametrize("after", CRAFTED_AFTER)
def test_a_crafted_queue_cursor_is_a_400(
    as_reviewer: FlaskClient, add_submission: AddSubmission, after: str
) -> None:
    add_submission()
    response = as_reviewer.get("/clinic/", query_string={"after": after})
    assert response.status_code == 400
    assert NOT_VALID in response.get_data(as_text=True)


def test_a_real_cursor_still_pages(as_reviewer: FlaskClient, add_submission: AddSubmission) -> None:
    add_submission()
    after = cursor("0|2026-06-01T12:00:00+00:00|1")
    assert as_reviewer.get("/clinic/", query_string={"after": after}).status_code == 200


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("before", "99999999999999999999"),
        ("before", "2147483648"),
        ("before", "-1"),
        ("before", "0"),
        ("before", "\u0661\u0662"),
        ("since", "20260101"),
        ("since", "2026W011"),
        ("since", "0001-01-01"),
        ("since", "9999-12-31"),
    ],
)
def test_a_crafted_audit_paging_value_is_a_400(
    as_admin: FlaskClient, name: str, value: str
) -> None:
    response = as_admin.get("/clinic/audit", query_string={name: value})
    assert response.status_code == 400


def test_real_audit_paging_values_work(as_admin: FlaskClient) -> None:
    assert as_admin.get("/clinic/audit", query_string={"before": "5"}).status_code == 200
    assert as_admin.get("/clinic/audit", query_string={"since": "2026-05-01"}).status_code == 200
