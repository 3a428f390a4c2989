"""The test suite, as a package.

pytest imports each file as `tests.test_x` with the repository root on the
path, so tests import their helpers as `from tests.support import ...`,
`from tests.hostile import corpus` and `from tests.submissions import ...`,
and the project itself (`autograder`, `solutions`, `tools`, `bench`) through
its editable install; no file under tests/ edits sys.path to find them.
"""
