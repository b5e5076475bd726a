"""A model event's `serializer_class`: what builds its `data` instead of `fields`/`exclude`.

One of: a Django REST framework serializer class (`Serializer(instance).data`), a Pydantic
model (`Model.model_validate(instance, from_attributes=True)`, dumped as JSON values), or any
callable that takes the instance and returns a mapping. Duck-typed: the core imports neither.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._errors import EventError

DataBuilder = Callable[..., Any]
"""A DRF serializer class, a Pydantic model class, or `callable(instance) -> mapping`."""


def serializer_problem(
    owner: str,
    serializer: object,
    fields: Iterable[str] | None,
    exclude: Iterable[str] | None,
) -> str | None:
    """What is wrong with a model event's `serializer_class` (None: nothing)."""
    if serializer is None:
        return None
    if not callable(serializer):
        return (
            f"{owner}.serializer_class must be a DRF serializer class, a Pydantic model or a "
            f"callable taking the instance, got {serializer!r}"
        )
    if fields is not None or exclude is not None:
        return f"{owner}: serializer_class builds the data; leave out fields and exclude"
    return None


def serialized(serializer: DataBuilder, instance: object) -> dict[str, Any]:
    """The data `serializer` makes of `instance`, as a plain dict."""
    validate = getattr(serializer, "model_validate", None)
    if callable(validate):  # a Pydantic model
        dumped = validate(instance, from_attributes=True).model_dump(mode="json")
        return _mapping(serializer, dumped)
    made = serializer(instance)
    # A DRF serializer instance holds its output in `.data`; a plain callable returns it.
    data = made if isinstance(made, Mapping) else getattr(made, "data", made)
    return _mapping(serializer, data)


def _mapping(serializer: DataBuilder, data: object) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        name = getattr(serializer, "__qualname__", repr(serializer))
        raise EventError(f"{name} made {type(data).__name__}, not a mapping of names to values")
    return dict(data)
