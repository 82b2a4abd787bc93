"""Account administration: invitations, enrolment, second factors, passwords, signing out everywhere."""
