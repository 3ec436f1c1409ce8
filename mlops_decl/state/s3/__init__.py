"""The `s3` state backend (docs/state.md): backend.py (settings, open), store.py (snapshot and
journal objects), lock.py (lock object, DynamoDB item), audit.py, remote.py (the AWS calls)."""
