"""What the provider's library calls need around them without process-wide changes:
owner-only files under the data directory, library output kept off the terminal."""
