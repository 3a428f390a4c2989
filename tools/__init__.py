"""Build tooling for the book (python -m tools.build_book)."""
