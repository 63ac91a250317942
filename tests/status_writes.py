"""Find the places in source files that write a `status`, so each model package can prove that only its
lifecycle module does.

A status write is: an assignment to `<something>.status`; `setattr(x, "status", …)`; an `update`,
`bulk_update` or `update_or_create` call given `status=`, a `**` dict that holds a "status" key, or a field
list naming "status"; SQL text (also an f-string) that says `UPDATE … SET … status =`; a call of the shared
mechanics the writers are built on (config/status.py, config/jobs.py's JobStatusWriter), which only a
lifecycle module may make. Creating a row with its first status is not a change and is not reported;
reading (`filter(status=…)`) is not either.
"""

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UPDATE_CALLS = {"update", "bulk_update", "update_or_create"}
WRITER_MECHANICS = {"status_swap", "status_move_many", "JobStatusWriter"}
# The mechanics themselves: they write only when a lifecycle module calls them.
MECHANICS_MODULES = {"config/status.py", "config/jobs.py"}
# The one writer of a model that lives beside other models' code (the jobs app holds several): every other
# model's scan of that directory passes over it, and its own model's test names it as the writer.
OWN_MODEL_WRITERS = {"jobs/import_status.py"}
SQL_STATUS_UPDATE = re.compile(r"\bUPDATE\b.*\bSET\b.*\bstatus\s*=", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class StatusWrite:
    path: str
    line: int
    function: str
    what: str

    def __str__(self):
        return f"{self.path}:{self.line} in {self.function}: {self.what}"


def python_files(*places: str) -> list[str]:
    """The .py files of each place (a package folder or one file), relative to the repository, without migrations."""
    found = []
    for place in places:
        path = ROOT / place
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        found.extend(str(file.relative_to(ROOT)) for file in files if "migrations" not in file.parts)
    return found


def status_writes_in_source(source: str, *, path: str = "<source>") -> list[StatusWrite]:
    tree = ast.parse(source)
    writes: list[StatusWrite] = []
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }
    for function, node in _walk_with_function(tree, "<module>"):
        if id(node) in docstrings:
            continue
        what = _status_write(node, _status_dict_names(function))
        if what:
            writes.append(StatusWrite(path, node.lineno, getattr(function, "name", "<module>"), what))
    return writes


def status_writes(paths: list[str], *, writers: set[str], allowed: set[tuple[str, str]] = frozenset()):
    """Status writes in `paths` outside the `writers` modules and the allowed (path, function) pairs."""
    found = []
    for path in paths:
        if path in writers or path in MECHANICS_MODULES or path in OWN_MODEL_WRITERS:
            continue
        for write in status_writes_in_source((ROOT / path).read_text(), path=path):
            if (write.path, write.function) not in allowed:
                found.append(write)
    return found


def _walk_with_function(node, function):
    for child in ast.iter_child_nodes(node):
        inner = child if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
        yield inner, child
        yield from _walk_with_function(child, inner)


def _status_dict_names(function) -> set[str]:
    """Names bound in the function (or module) to a dict literal holding a "status" key."""
    names = set()
    if function == "<module>":
        return names
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and _has_status_key(node.value):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and _is_status_constant(target.slice)
                ):
                    names.add(target.value.id)
    return names


def _status_write(node, status_dicts: set[str]) -> str | None:
    if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            for part in target.elts if isinstance(target, ast.Tuple) else [target]:
                if isinstance(part, ast.Attribute) and part.attr == "status":
                    return "assigns .status"
    if isinstance(node, ast.Call):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name in WRITER_MECHANICS:
            return f"calls {name}"
        if name == "setattr" and len(node.args) > 1 and _is_status_constant(node.args[1]):
            return 'setattr(…, "status", …)'
        if name in UPDATE_CALLS:
            for keyword in node.keywords:
                if keyword.arg == "status":
                    return f"{name}(status=…)"
                if keyword.arg is None and (
                    (isinstance(keyword.value, ast.Dict) and _has_status_key(keyword.value))
                    or (isinstance(keyword.value, ast.Name) and keyword.value.id in status_dicts)
                ):
                    return f"{name}(**{{'status': …}})"
            if name == "bulk_update" and any(_names_status(arg) for arg in node.args[1:]):
                return "bulk_update(…, ['status'])"
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_STATUS_UPDATE.search(node.value):
        return "SQL UPDATE … SET status"
    if isinstance(node, ast.JoinedStr):
        text = "{}".join(part.value for part in node.values if isinstance(part, ast.Constant))
        if SQL_STATUS_UPDATE.search(text):
            return "SQL UPDATE … SET status"
    return None


def _is_status_constant(node) -> bool:
    return isinstance(node, ast.Constant) and node.value == "status"


def _has_status_key(node: ast.Dict) -> bool:
    return any(_is_status_constant(key) for key in node.keys if key is not None)


def _names_status(node) -> bool:
    return isinstance(node, ast.List | ast.Tuple | ast.Set) and any(_is_status_constant(e) for e in node.elts)
