"""A second, minimal provider over a small REST service (service.py), written from the
provider author's guide (docs/providers.md) alone: the conformance suite runs on it to show
the protocol is not shaped like the local provider."""
