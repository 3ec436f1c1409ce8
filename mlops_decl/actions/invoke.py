"""Calling a runtime action: the provider's capability, the engine's retries and time limit,
and one error line (never a traceback) for whatever goes wrong under it.

The same wrapping as lifecycle calls (mlops_decl/retry.py): retryable ProviderErrors are
retried with backoff; each attempt runs under the call time limit unless the action is long
(a run that trains in process, a server). Any other exception from a provider or the library
beneath it becomes one message naming the resource; MLOPS_DEBUG=1 keeps its traceback.
"""

from __future__ import annotations

import os
from typing import Any

from mlops_decl.actions.catalog import ActionSpec, capabilities, spec
from mlops_decl.diagnostics import Diagnostic, DiagnosticError
from mlops_decl.provider import ProviderError, RuntimeContext
from mlops_decl.retry import call_timeout, call_with_retry, explicit_timeout, policy_of


def invoke(
    provider: Any,
    provider_name: str,
    address: str,
    kind: str,
    name: str,
    id: str,
    attrs: dict[str, Any],
    rt: RuntimeContext,
    **arguments: Any,
) -> Any:
    """The typed result of action `name` on the managed object `address`."""
    action = spec(kind, name)
    if action is None:  # the engine asked for something the protocol does not have
        raise ValueError(f"no runtime action `{name}` for kind {kind}")
    fn = provider.action(kind, name) if (kind, name) in capabilities(provider) else None
    if fn is None:
        raise DiagnosticError(
            Diagnostic(
                f"provider `{provider_name}` cannot `{name}` a {kind}",
                address=address,
                hint="docs/runtime-actions.md lists which provider supports which action",
            )
        )
    explicit = explicit_timeout()  # a long action has no limit unless the user set one
    limit = (None if explicit is ... else explicit) if action.long else call_timeout()
    try:
        result = call_with_retry(
            lambda: fn(id, attrs, rt, **arguments),
            policy=policy_of(provider),
            timeout=limit,
            what=f"{address}: {name}",
        )
    except ProviderError as exc:
        raise DiagnosticError(
            Diagnostic(f"{address}: {exc}", address=address, hint=getattr(exc, "hint", None))
        ) from None
    except Exception as exc:  # a library failing under the provider: one line naming the resource
        raise DiagnosticError(
            Diagnostic(
                f"{address}: {name} failed: {type(exc).__name__}: {exc}",
                address=address,
                hint="set MLOPS_DEBUG=1 to see where",
            )
        ) from (exc if os.environ.get("MLOPS_DEBUG") else None)
    return checked(action, provider_name, address, result)


def checked(action: ActionSpec, provider_name: str, address: str, result: Any) -> Any:
    """`result` if it is the action's result type, else one error naming the provider."""
    expected = action.result_type()
    if not isinstance(result, expected) and not (result is None and action.optional):
        raise DiagnosticError(
            Diagnostic(
                f"{address}: provider `{provider_name}` returned {type(result).__name__} from "
                f"`{action.name}`, not {expected.__name__}",
                address=address,
                hint="a provider bug: report it to the provider's authors",
            )
        )
    return result
