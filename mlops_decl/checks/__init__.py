"""Checks beyond the kinds' schemas, run before anything is applied.

`config` holds what the configuration alone tells, run by `validate` and by every command
that loads the project (no provider is called, no data read): references of the right kind,
closed `${`, gate metrics a pipeline's task logs (`gates`), estimator class paths read from
source (`classpath`), data paths inside the project or under `allow_paths:` (`paths`).
"""
