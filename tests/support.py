"""Plain helpers the test files share (conftest.py keeps only fixtures and hooks).

`require(...)` skips a test whose system package is missing, with the reason
spelled out; under CI (.ci/run sets CI_REQUIRE_ALL=1, after installing every
such package) a missing package fails the test instead, so CI never skips.
"""
import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _missing(reason):
    """Skip with `reason`, or fail under CI, where every optional package is installed."""
    if os.environ.get("CI_REQUIRE_ALL"):
        pytest.fail(f"CI must not skip: {reason}")
    pytest.skip(reason)


def require(executable, package):
    """Skip (or, in CI, fail) unless `executable` is on PATH or is an existing path."""
    found = Path(executable).exists() if os.sep in executable else shutil.which(executable)
    if found:
        return
    _missing(f"needs {executable} (Debian package '{package}': apt-get install {package})")


def require_module(name, install_hint):
    """Like require(), for an optional Python module; returns the module."""
    try:
        return __import__(name)
    except ImportError:
        _missing(f"needs the Python module {name} ({install_hint})")


def chapter_module(name):
    """Import chapters/<name>.py (a chapter's helper module, not a package) under its plain name.

    The book imports it with chapters/ as the working folder; the tests load the same
    file by path instead of putting chapters/ on sys.path, and register it in
    sys.modules so a second import (and pickling) finds the same module.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "chapters" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
