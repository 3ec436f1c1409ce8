"""The command line: the only part of mlops-decl that prints."""
