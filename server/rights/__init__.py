"""Rights of the data subject (privacy notice sections 6, 7 and 10) and retention."""
