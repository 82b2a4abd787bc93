"""The visits' two blueprints: the patient's check-in (checkin) and the clinic's pages (clinic)."""
