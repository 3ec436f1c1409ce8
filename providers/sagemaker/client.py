"""The only place the SageMaker provider builds boto3 sessions and clients: region, profile,
a role assumed through STS, a local endpoint_url (the test double), botocore's retry config.
One Clients per provider instance; boto3 clients are safe to share between threads, their
creation is not, so it happens under a lock. `call` runs one API call and maps its error.

CLIENT_HOOKS is where a test or a benchmark watches the calls (calls.py counts them with
botocore's event hooks): each hook gets (service, client) once a client is built, before
its first call, and registers its handlers on `client.meta.events`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from mlops_decl.provider import ConfigError

from .errors import provider_error
from .settings import Settings

T = TypeVar("T")

CLIENT_HOOKS: list[Callable[[str, Any], None]] = []
# above the provider's concurrency (16): no call waits for a pooled connection, and none
# opens one that the pool then discards
POOL_CONNECTIONS = 32
_CREDENTIALS_HINT = (
    "set AWS_PROFILE (or `profile:` on the provider) or AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY; offline, against the test double, any values do"
)


class Clients:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._session: Any = None
        self._clients: dict[str, Any] = {}

    def _new_session(self) -> Any:
        import boto3

        s = self.settings
        base = boto3.session.Session(profile_name=s.profile, region_name=s.region)
        if not s.role_arn:
            return base
        sts = base.client("sts", endpoint_url=s.endpoint_url, config=self._config())
        try:
            creds = sts.assume_role(RoleArn=s.role_arn, RoleSessionName="mlops-decl")["Credentials"]
        except Exception as exc:  # botocore's errors: mapped, never a traceback
            raise provider_error(exc, f"assume role {s.role_arn}") from None
        return boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=s.region,
        )

    def _config(self) -> Any:
        from botocore.config import Config

        return Config(
            retries={"total_max_attempts": self.settings.max_attempts, "mode": "standard"},
            user_agent_extra="mlops-decl",
            connect_timeout=10,
            read_timeout=60,
            max_pool_connections=POOL_CONNECTIONS,
        )

    def client(self, service: str) -> Any:
        # Built once, then only read: a refresh's threads never wait on the lock while
        # another service's client is being built (that takes a few hundred ms).
        found = self._clients.get(service)
        if found is not None:
            return found
        with self._lock:
            found = self._clients.get(service)
            if found is None:
                if self._session is None:
                    self._session = self._new_session()
                found = self._session.client(
                    service, endpoint_url=self.settings.endpoint_url, config=self._config()
                )
                for hook in list(CLIENT_HOOKS):
                    hook(service, found)
                self._clients[service] = found
            return found

    def check_credentials(self) -> None:
        """AWS credentials are found (botocore's own lookup: no API call), or one ConfigError."""
        from botocore.exceptions import BotoCoreError

        try:
            with self._lock:
                if self._session is None:
                    self._session = self._new_session()
                session = self._session
            found = session.get_credentials()
        except BotoCoreError as exc:  # a profile that is not in the config files, a bad file
            field = ("profile",) if self.settings.profile else ()
            raise ConfigError(str(exc), field=field, hint=_CREDENTIALS_HINT) from None
        if found is None:
            raise ConfigError("no AWS credentials found", hint=_CREDENTIALS_HINT)

    @property
    def sagemaker(self) -> Any:
        return self.client("sagemaker")

    @property
    def s3(self) -> Any:
        return self.client("s3")

    @property
    def runtime(self) -> Any:
        """sagemaker-runtime: InvokeEndpoint."""
        return self.client("sagemaker-runtime")

    def close(self) -> None:
        with self._lock:
            for c in self._clients.values():
                c.close()
            self._clients.clear()


def call(fn: Callable[..., T], what: str, /, **kwargs: Any) -> T:
    """fn(**kwargs), its botocore error as a categorised ProviderError naming `what`."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return fn(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        raise provider_error(exc, what) from None


def pages(
    fn: Callable[..., dict[str, Any]], what: str, key: str, /, **kwargs: Any
) -> Iterator[dict[str, Any]]:
    """The items under `key` of every page of a SageMaker list call (NextToken), through call()."""
    token = None
    while True:
        page = call(fn, what, **kwargs, **({"NextToken": token} if token else {}))
        yield from page.get(key) or []
        token = page.get("NextToken")
        if not token:
            return


def found(fn: Callable[..., Any], what: str, /, **kwargs: Any) -> Any:
    """fn(**kwargs), or None when the API says the object does not exist."""
    from .errors import is_missing

    got, exc = attempt(fn, what, **kwargs)
    if exc is None:
        return got
    if is_missing(exc):
        return None
    raise provider_error(exc, what)


def absent_ok(fn: Callable[..., Any], what: str, /, **kwargs: Any) -> None:
    """fn(**kwargs) for a delete: an object already gone is not an error."""
    found(fn, what, **kwargs)


def attempt(fn: Callable[..., Any], what: str, /, **kwargs: Any) -> tuple[Any, Exception | None]:
    """(result, None), or (None, the ClientError) for the caller to look at (missing, exists);
    connection errors and the like raise as `call` raises them."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return fn(**kwargs), None
    except ClientError as exc:
        return None, exc
    except BotoCoreError as exc:
        raise provider_error(exc, what) from None
