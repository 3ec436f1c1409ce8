"""The backend worker of the contract tests, for the concurrency harness: see
mlops_decl/testing/backend_worker.py for its modes. Not a test module."""

from __future__ import annotations

import sys

from mlops_decl.testing.backend_worker import main

if __name__ == "__main__":
    main(sys.argv)
