"""Reading hand-written YAML strictly: every error names the key path and its line.

`load_yaml` keeps the line of every mapping key; `Section` reads typed values out of a
mapping, and `Section.done()` rejects keys nobody asked for, so a typo in a config or
scenario file is an error that says where it is instead of a setting silently ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from enum import Enum
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar, overload

import yaml

E = TypeVar("E", bound=Enum)
T = TypeVar("T")
D = TypeVar("D")


class SchemaError(ValueError):
    """A value in a YAML file (or a dict standing in for one) is missing or wrong."""

    def __init__(
        self, where: str, problem: str, *, line: int | None = None, source: str | None = None
    ):
        self.where = where
        self.problem = problem
        self.line = line
        self.source = source
        place = ":".join(str(p) for p in (source, line) if p is not None)
        prefix = f"{place}: " if place else ""
        super().__init__(f"{prefix}{where}: {problem}" if where else f"{prefix}{problem}")


class LineMap(dict[str, Any]):
    """A mapping that remembers the line of each of its keys (and of itself)."""

    line: int | None = None
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int | None:
        return getattr(self, "key_lines", {}).get(key, self.line)


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineMap:
    loader.flatten_mapping(node)
    mapping = LineMap()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise SchemaError(
                str(key), "mapping keys must be plain values", line=key_node.start_mark.line + 1
            )
        name = str(key)
        if name in mapping:
            raise SchemaError(name, "duplicate key", line=key_node.start_mark.line + 1)
        mapping[name] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[name] = key_node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(text: str, *, source: str | None = None) -> Any:
    """Parse YAML text; mappings come back as `LineMap`s. Syntax errors become SchemaError."""
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise SchemaError(
            "", f"invalid YAML: {exc.problem}", line=mark.line + 1 if mark else None, source=source
        ) from exc
    except yaml.YAMLError as exc:
        raise SchemaError("", f"invalid YAML: {exc}", source=source) from exc


def load_yaml_file(path: str | Path | Traversable) -> Any:
    """Parse a YAML file (a path or a packaged resource)."""
    if isinstance(path, str):
        path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaError("", f"cannot read {path}: {exc.strerror}", source=str(path)) from exc
    return load_yaml(text, source=str(path))


_REQUIRED: Any = object()


class Section:
    """Typed, strict access to one mapping of a YAML document."""

    def __init__(self, data: Mapping[str, Any] | None, path: str = "", source: str | None = None):
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise SchemaError(
                path or "(top)", f"expected a mapping, got {_kind(data)}", source=source
            )
        self.data = data
        self.path = path
        self.source = source
        self._seen: set[str] = set()

    # -- errors --------------------------------------------------------------------------
    def _key_path(self, key: str | int) -> str:
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else key

    def line_of(self, key: str) -> int | None:
        data = self.data
        return data.line_of(key) if isinstance(data, LineMap) else None

    def error(self, key: str, problem: str) -> SchemaError:
        return SchemaError(self._key_path(key), problem, line=self.line_of(key), source=self.source)

    # -- access --------------------------------------------------------------------------
    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def raw(self, key: str, default: Any = _REQUIRED) -> Any:
        self._seen.add(key)
        if key not in self.data or self.data[key] is None:
            if default is _REQUIRED:
                raise self.error(key, "is required")
            return default
        return self.data[key]

    def _typed(self, key: str, default: Any, types: tuple[type, ...], label: str) -> Any:
        value = self.raw(key, default)
        if value is default and default is not _REQUIRED:
            return value
        if isinstance(value, bool) and bool not in types:
            raise self.error(key, f"expected {label}, got {_kind(value)}")
        if not isinstance(value, types):
            raise self.error(key, f"expected {label}, got {_kind(value)}")
        return value

    # Each accessor returns its type, or the default's type when the key is absent or null;
    # without a default the key is required.
    @overload
    def text(self, key: str) -> str: ...
    @overload
    def text(self, key: str, default: D) -> str | D: ...
    def text(self, key: str, default: Any = _REQUIRED) -> Any:
        return self._typed(key, default, (str,), "a string")

    @overload
    def integer(
        self, key: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> int: ...
    @overload
    def integer(
        self, key: str, default: D, *, minimum: int | None = None, maximum: int | None = None
    ) -> int | D: ...
    def integer(
        self,
        key: str,
        default: Any = _REQUIRED,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> Any:
        value = self._typed(key, default, (int,), "an integer")
        if isinstance(value, int):
            self._check_range(key, value, minimum, maximum)
        return value

    @overload
    def number(
        self, key: str, *, minimum: float | None = None, maximum: float | None = None
    ) -> float: ...
    @overload
    def number(
        self, key: str, default: D, *, minimum: float | None = None, maximum: float | None = None
    ) -> float | D: ...
    def number(
        self,
        key: str,
        default: Any = _REQUIRED,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> Any:
        value = self._typed(key, default, (int, float), "a number")
        if isinstance(value, int | float):
            self._check_range(key, value, minimum, maximum)
            return float(value)
        return value

    @overload
    def flag(self, key: str) -> bool: ...
    @overload
    def flag(self, key: str, default: D) -> bool | D: ...
    def flag(self, key: str, default: Any = _REQUIRED) -> Any:
        return self._typed(key, default, (bool,), "true or false")

    @overload
    def decimal(self, key: str) -> Decimal: ...
    @overload
    def decimal(self, key: str, default: D) -> Decimal | D: ...
    def decimal(self, key: str, default: Any = _REQUIRED) -> Any:
        value = self.raw(key, default)
        if value is default and default is not _REQUIRED:
            return value
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(key, f"expected a decimal number, got {_kind(value)}")
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise self.error(key, f"expected a decimal number, got {value!r}") from None

    @overload
    def enum(self, key: str, enum: type[E]) -> E: ...
    @overload
    def enum(self, key: str, enum: type[E], default: D) -> E | D: ...
    def enum(self, key: str, enum: type[E], default: Any = _REQUIRED) -> Any:
        value = self.raw(key, default)
        if value is default and default is not _REQUIRED:
            return value
        text = value if isinstance(value, str) else str(value)
        for member in enum:
            if str(member.value).lower() == text.lower():
                return member
        choices = ", ".join(str(m.value) for m in enum)
        raise self.error(key, f"expected one of {choices}, got {value!r}")

    @overload
    def sequence(self, key: str) -> list[Any]: ...
    @overload
    def sequence(self, key: str, default: D) -> list[Any] | D: ...
    def sequence(self, key: str, default: Any = _REQUIRED) -> Any:
        return self._typed(key, default, (list,), "a list")

    def section(self, key: str, *, required: bool = False) -> Section:
        value = self.raw(key, _REQUIRED if required else None)
        if value is not None and not isinstance(value, Mapping):
            raise self.error(key, f"expected a mapping, got {_kind(value)}")
        return Section(value, self._key_path(key), self.source)

    def sections(self, key: str, default: Any = _REQUIRED) -> list[Section]:
        """A list of mappings, each as a Section."""
        items: list[Any] | None = self.sequence(key, default)
        if items is None:
            return []
        out = []
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise SchemaError(
                    f"{self._key_path(key)}[{index}]",
                    f"expected a mapping, got {_kind(item)}",
                    line=self.line_of(key),
                    source=self.source,
                )
            out.append(Section(item, f"{self._key_path(key)}[{index}]", self.source))
        return out

    @overload
    def convert(self, key: str, parse: Callable[[Any], T]) -> T: ...
    @overload
    def convert(self, key: str, parse: Callable[[Any], T], default: D) -> T | D: ...
    def convert(self, key: str, parse: Callable[[Any], T], default: Any = _REQUIRED) -> Any:
        """Read a value and pass it through `parse`; a ValueError from it names the key."""
        value = self.raw(key, default)
        if value is default and default is not _REQUIRED:
            return value
        try:
            return parse(value)
        except (ValueError, TypeError) as exc:
            raise self.error(key, str(exc)) from None

    def _check_range(
        self, key: str, value: float, minimum: float | None, maximum: float | None
    ) -> None:
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise self.error(key, f"must be at most {maximum}, got {value}")

    def done(self) -> None:
        """Reject keys that were never read: they are typos or unsupported settings."""
        unknown = [k for k in self.data if k not in self._seen]
        if unknown:
            key = unknown[0]
            known = ", ".join(sorted(self._seen)) or "none"
            raise self.error(key, f"unknown key (known keys here: {known})")


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"
