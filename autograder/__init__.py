"""The nbgrader course: config, source notebooks and the trusted grading code (see GRADING.md)."""
