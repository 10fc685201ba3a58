"""What a built function folder needs from the package index: pure, but for reading metadata.

A built folder vendors phasegate's code, so its ``requirements.txt`` lists
phasegate's runtime dependencies instead of phasegate. They are found, not
hard-coded: the imports of the folder's own files and of every phasegate
module they reach (lazy imports inside functions included; ``TYPE_CHECKING``
blocks and optional ``try: import ... except ImportError`` excluded), each
mapped to its distribution and given the version range phasegate declares.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

# Always needed by a deployed function, whatever a refactor moves around.
BASE = ("functions-framework", "google-cloud-firestore", "google-cloud-pubsub")
# Namespace packages: the distribution depends on more than the top-level name.
DISTRIBUTIONS = {
    "google.cloud.firestore": "google-cloud-firestore",
    "google.cloud.firestore_v1": "google-cloud-firestore",
    "google.cloud.pubsub": "google-cloud-pubsub",
    "google.cloud.pubsub_v1": "google-cloud-pubsub",
    "google.cloud.bigquery": "google-cloud-bigquery",
    "google.cloud.logging": "google-cloud-logging",
    "google.cloud.secretmanager": "google-cloud-secret-manager",
    "google.api_core": "google-api-core",
    "google.auth": "google-auth",
    "google.oauth2": "google-auth",
    "google.protobuf": "protobuf",
    "functions_framework": "functions-framework",
    "yaml": "PyYAML",
}
NAMESPACES = frozenset({"google", "google.cloud"})
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


class SourceError(ValueError):
    """A Python file that cannot be read or parsed: names the file and the line."""

    def __init__(self, filename: str, line: int | None, reason: str) -> None:
        self.filename, self.line, self.reason = filename, line, reason
        where = f"{filename}:{line}" if line else filename
        super().__init__(f"{where}: {reason}")


def parse(code: str, filename: str) -> ast.Module:
    """``code`` parsed, or :class:`SourceError` naming ``filename`` and the line."""
    try:
        return ast.parse(code, filename=filename)
    except SyntaxError as error:
        raise SourceError(filename, error.lineno, f"cannot parse: {error.msg}") from None
    except ValueError as error:  # NUL bytes (Python < 3.12)
        raise SourceError(filename, None, f"cannot parse: {error}") from None
    except (RecursionError, MemoryError):
        raise SourceError(filename, None, "nested too deeply to parse") from None


def normalized(name: str) -> str:
    """A distribution name as the index compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def imports_of(code: str, module: str = "", is_package: bool = False,
               filename: str = "<source>") -> set[str]:
    """Absolute module names ``code`` imports (``from a import b`` gives ``a`` and ``a.b``).

    Raises :class:`SourceError` (naming ``filename``) when ``code`` does not parse.
    """
    found: set[str] = set()
    for node in _runtime_nodes(parse(code, filename)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, module, is_package)
            if base:
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return found


def _runtime_nodes(tree: ast.AST) -> Iterable[ast.AST]:
    """Every node that may run: not under ``if TYPE_CHECKING``, not an optional import."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                stack.extend(child.orelse)
            elif isinstance(child, ast.Try) and _catches_import_error(child):
                stack.extend([*child.handlers, *child.orelse, *child.finalbody])
            else:
                stack.append(child)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _catches_import_error(node: ast.Try) -> bool:
    names = {"ImportError", "ModuleNotFoundError"}
    for handler in node.handlers:
        caught = handler.type
        options = caught.elts if isinstance(caught, ast.Tuple) else [caught]
        if any(isinstance(option, ast.Name) and option.id in names for option in options):
            return True
    return False


def _absolute(name: str | None, level: int, module: str, is_package: bool) -> str:
    if level == 0:
        return name or ""
    if not module:
        return ""  # a relative import outside a package: it fails at runtime anyway
    parts = module.split(".") if module else []
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, *([name] if name else [])])


def module_file(package_dir: Path, module: str) -> tuple[Path, bool] | None:
    """The file of ``module`` (``phasegate.x.y``) under the package, and whether it is a package."""
    parts = module.split(".")[1:]
    base = package_dir.joinpath(*parts)
    if (base / "__init__.py").is_file():
        return base / "__init__.py", True
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py"), False
    return None


def third_party_imports(sources: Iterable[str] | Mapping[str, str], package_dir: Path,
                        package: str = "phasegate", local: Iterable[str] = ()) -> set[str]:
    """Modules outside the standard library, ``package`` and ``local`` that ``sources`` reach.

    ``sources`` is code, or a mapping of file name to code (the name is what a
    :class:`SourceError` shows); ``local`` names the folder's own modules
    (``expected_processors``).
    """
    local = frozenset(local)
    named = (sources.items() if isinstance(sources, Mapping)
             else ((f"<source {index}>", code) for index, code in enumerate(sources, 1)))
    pending = set().union(*(imports_of(code, filename=name) for name, code in named))
    seen: set[str] = set()
    outside: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        top = name.split(".")[0]
        if top == package:
            parts = name.split(".")
            pending.update(".".join(parts[:i]) for i in range(1, len(parts)))  # parents' __init__
            found = module_file(package_dir, name)
            if found:
                path, is_package = found
                shown = f"{package}/{path.relative_to(package_dir).as_posix()}"
                pending |= imports_of(read_source(path, shown), name, is_package, shown)
        elif top not in sys.stdlib_module_names and top not in local and top != "__future__":
            outside.add(name)
    return outside


def read_source(path: Path, shown: str) -> str:
    """A Python file's text, or :class:`SourceError` naming it as ``shown``."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise SourceError(shown, None, f"not UTF-8 text ({error.reason} at byte "
                                       f"{error.start})") from None
    except OSError as error:
        raise SourceError(shown, None, f"cannot read: {error.strerror}") from None


def distributions(modules: Iterable[str],
                  installed: Mapping[str, list[str]] | None = None) -> set[str]:
    """The distributions providing ``modules`` (namespace parents alone provide nothing)."""
    if installed is None:
        from importlib.metadata import packages_distributions

        installed = packages_distributions()
    names: set[str] = set()
    for module in modules:
        if module in NAMESPACES:
            continue
        known = next((dist for prefix, dist in DISTRIBUTIONS.items()
                      if module == prefix or module.startswith(prefix + ".")), None)
        parts = module.split(".")
        if known:
            names.add(known)
        elif parts[:2] == ["google", "cloud"]:  # the google-cloud-* naming convention
            names.add("google-cloud-" + re.sub(r"_v\d+\w*$", "", parts[2]).replace("_", "-"))
        elif parts[0] != "google":
            names.add((installed.get(parts[0]) or [parts[0]])[0])
    return names


def declared_ranges(distribution: str = "phasegate") -> dict[str, str]:
    """The version range phasegate declares for each dependency (any extra), by name."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        lines = requires(distribution) or []
    except PackageNotFoundError:
        return {}
    ranges: dict[str, str] = {}
    for line in lines:
        requirement = line.split(";", 1)[0].strip()
        match = NAME.match(requirement)
        if match:
            ranges[normalized(match.group(1))] = requirement
    return ranges


def requirements_text(names: Iterable[str], existing: str, ranges: Mapping[str, str],
                      header: str) -> str:
    """The folder's requirements: its own lines without phasegate, then what the code needs."""
    own: dict[str, str] = {}
    for line in existing.splitlines():
        stripped = line.split("#", 1)[0].strip()
        match = NAME.match(stripped)
        if match and normalized(match.group(1)) != "phasegate":
            own[normalized(match.group(1))] = stripped
    wanted = {normalized(name): ranges.get(normalized(name), name) for name in names}
    merged = {**wanted, **own}  # a pin of the pipeline's own wins
    return header + "".join(f"{merged[key]}\n" for key in sorted(merged))
