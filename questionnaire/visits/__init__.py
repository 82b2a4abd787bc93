"""Treatment visits: patients made from reviewed submissions, visits, and their check-ins."""
