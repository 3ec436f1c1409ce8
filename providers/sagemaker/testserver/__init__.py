"""A local SageMaker + S3 for tests and offline examples: moto's server, extended in the same
process with the calls moto lacks (extensions.py lists them) and with the timing of the real
service (an endpoint is Creating for a moment; a pipeline execution runs for a moment, then
registers a model package with the metrics its evaluation step wrote).

    with SageMakerServer() as server:
        boto3.client("sagemaker", endpoint_url=server.url, ...)

`python -m mlops_decl.providers.sagemaker.testserver --port P` runs one on its own.
"""

from __future__ import annotations

from .server import Options, SageMakerServer

__all__ = ["Options", "SageMakerServer"]
