"""Runtime actions, a typed part of the provider protocol (docs/runtime-actions.md).

`catalog` lists every action with its arguments and result type, `results` holds the result
dataclasses, `protocols` their signatures per kind, `invoke` calls one through the engine's
retries, time limit and error mapping, `check` is what `validate` checks of them. Cheap to
import: nothing here loads a provider, mlflow or pandas, and `validate` imports only
`check` and `catalog`.
"""
