"""What a provider author tells the conformance suite about their provider. Plain data: no
pytest here, so importing it costs nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Fields = dict[str, Any]
# (kind -> id) of the samples a sample needs, made before it -> its fields
FieldsOf = Callable[[Mapping[str, str]], Fields]


@dataclass(frozen=True)
class Sample:
    """A minimal resource of one kind, written as its resolved YAML fields (references already
    replaced by ids: a callable receives the ids of the kinds it `needs`)."""

    kind: str
    name: str
    fields: Fields | FieldsOf
    in_place: Fields  # fields merged over `fields` that the provider changes in place
    force_new: Fields | None = None  # fields merged over `fields` that force a replacement
    needs: tuple[str, ...] = ()  # kinds of other samples made first, in this order

    def fields_for(self, ids: Mapping[str, str]) -> Fields:
        return dict(self.fields(ids) if callable(self.fields) else self.fields)


@contextmanager
def no_server(project_dir: Path) -> Iterator[None]:
    """For a provider that needs no service of its own."""
    yield None


@dataclass
class ProviderCase:
    """A provider, the service it talks to, and one minimal resource per kind it supports.

    `server(project_dir)` starts the service the provider talks to (a local test double) and
    yields a handle the other callables receive; `settings(handle)` are the provider's
    settings against it. Every test gets a fresh project directory and a fresh server.
    """

    provider: Callable[[], Any]  # the provider class, or any factory of unconfigured providers
    samples: list[Sample]
    settings: Callable[[Any], dict[str, Any]] = lambda handle: {}
    server: Callable[[Path], AbstractContextManager[Any]] = no_server
    files: dict[str, str] = field(default_factory=dict)  # written into the project first
    # settings configure() must refuse, each with the field path its ConfigError names
    bad_settings: list[tuple[dict[str, Any], tuple[str | int, ...]]] = field(default_factory=list)
    # how many API calls the service has answered so far; None: the suite checks instead that
    # plan() leaves every live object as it was
    api_calls: Callable[[Any], int] | None = None
    # make the service throttle its next `n` calls as it does under load; None: the engine's
    # fault injection throttles them instead
    throttle: Callable[[Any, int], None] | None = None
    # remove an object behind the provider's back; None: a second, independent provider
    # instance deletes it
    remove: Callable[[Any, str, str], None] | None = None
    # what else `import` accepts for an object besides its id (its name, an ARN), when the
    # handlers have import_
    import_refs: Callable[[str, str, Fields], list[str]] = lambda kind, id, attrs: []
    # runtime actions to call on the samples, by (kind, action): (handle, id, attributes) ->
    # the call's keyword arguments (preparing the service first where the action needs it)
    actions: dict[tuple[str, str], Callable[[Any, str, Fields], dict[str, Any]]] = field(default_factory=dict)

    def sample(self, kind: str) -> Sample:
        for s in self.samples:
            if s.kind == kind:
                return s
        raise KeyError(f"the case has no sample of kind `{kind}`")
