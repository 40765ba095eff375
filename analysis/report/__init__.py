"""The outputs people read: the self-contained HTML report, its figures, and the table writers."""
