"""Recipients, transfers and the record of processing (privacy notice sections 7 and 8,
GDPR Art. 30)."""
