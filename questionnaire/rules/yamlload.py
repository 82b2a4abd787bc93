"""Read YAML the way a clinical lead means it, and remember which line each value is on."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

_BOOL_TAG = "tag:yaml.org,2002:bool"

Path = tuple[str | int, ...]


class StrictLoader(yaml.SafeLoader):
    """A safe loader whose only booleans are true and false (YAML 1.2 style).

    YAML 1.1 reads yes/no/on/off as booleans, which would turn `equals: yes`
    into `equals: true` and silently break a rule on a yes/no item.
    """


StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StrictLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


#: The same loader on libyaml (C), when PyYAML was built with it: several times faster on
#: a long file such as the questionnaire definition, with the same booleans and line marks.
FastLoader: Any = StrictLoader
if yaml.__with_libyaml__:

    class _CStrictLoader(yaml.CSafeLoader):
        """StrictLoader's booleans on libyaml's parser."""

    _CStrictLoader.yaml_implicit_resolvers = StrictLoader.yaml_implicit_resolvers
    FastLoader = _CStrictLoader


@dataclass
class Document:
    """A parsed YAML document, the line of every mapping key and list item, and duplicate keys."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    #: (path of the repeated key, line of its first appearance, line of the repeat).
    duplicates: list[tuple[Path, int, int]] = field(default_factory=list)

    def line_of(self, path: Path) -> int | None:
        """Return the line of the deepest node along path that the document has."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


def parse(text: str, loader_class: Any = StrictLoader) -> Document:
    """Parse one YAML document with StrictLoader; raise yaml.YAMLError on bad syntax."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    document = Document(data)
    if node is not None:
        document.lines[()] = node.start_mark.line + 1
        _walk(node, (), document, set())
    return document


def _walk(node: yaml.Node, path: Path, document: Document, active: set[int]) -> None:
    # Aliases can make the node graph cyclic; never revisit a node on the current branch.
    if id(node) in active:
        return
    active.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                document.duplicates.append(((*path, key), seen[key], line))
                continue
            seen[key] = line
            document.lines[(*path, key)] = line
            _walk(value_node, (*path, key), document, active)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            document.lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), document, active)
    active.discard(id(node))
