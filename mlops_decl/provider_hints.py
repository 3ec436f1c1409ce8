"""Which providers this distribution names but does not ship yet."""

from __future__ import annotations

# pyproject.toml has extras of these names, but the providers themselves are not written yet:
# such an extra installs only the cloud SDK. A name leaves this tuple when its provider ships.
NOT_WRITTEN_YET = ("vertex", "databricks")
