"""Great Expectations file-context root and the data-quality runner."""
