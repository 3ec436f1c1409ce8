"""What every cloud provider needs and none should write again, with no SDK in it: following
a long-running operation (operations.py), reading a table's columns and rows from an object
store through ranged reads (objects.py), names and idempotency tokens from a resource's
stable identity (naming.py), and captured endpoint requests as columns for drift
(capture.py). Providers hand these functions their SDK's calls as plain callables."""
