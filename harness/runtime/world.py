"""What a function's processes see: which program runs the runtime, its search paths, its files.

`prepare_world` builds (or reuses from the per-user cache) the runtime's environment, lays out the function's
files (`FunctionFiles`) and returns the argv and path variables every execution environment of the function
starts with. The search paths follow AWS's order: the function's own code, then layers, then what the runtime
ships (https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html).

Known deviations from AWS:
- ``PATH`` is the runtime's bin directory, then the harness's own ``PATH``, then the layers' ``bin``; a
  function that shells out can reach host tools Lambda does not have.
- Node.js functions are confined by node's permission model: a write outside /tmp fails with
  ``ERR_ACCESS_DENIED`` (AWS: ``EROFS``); a node without the permission model (< 20) is not confined.
- ``nodejs22.x`` runs on whatever ``node`` is installed (``runs_on`` says which), and the Node.js SDK has the
  clients listed in ``runtime_facts.json``, not every ``@aws-sdk`` package.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from harness.runtime.provision import node_environment, python_environment
from harness.runtime.sandbox import FunctionFiles

BOOTSTRAP_DIR = Path(__file__).parent / "bootstraps"
NODE_BOOTSTRAP = BOOTSTRAP_DIR / "node_runtime.mjs"
PYTHON_BOOTSTRAP = BOOTSTRAP_DIR / "python_runtime.py"
READ_ONLY_VARIABLE = "_MSK_HARNESS_READ_ONLY"  # read (and removed) by the Python bootstrap


@dataclass
class FunctionWorld:
    """The argv, search paths and files shared by every execution environment of one function."""

    files: FunctionFiles
    argv: list[str]
    runs_on: str  # "python3.12 on CPython 3.12.1 (...)": which interpreter really runs it
    paths: dict[str, str] = field(default_factory=dict)  # PATH, LD_LIBRARY_PATH, PYTHONPATH / NODE_PATH

    def close(self) -> None:
        """Delete the function's files."""
        self.files.close()


def _joined(*parts: Path | str) -> str:
    return os.pathsep.join(str(p) for p in parts if str(p))


def _check_bootstrap(bootstrap: Path) -> None:
    if not bootstrap.is_file():
        raise FileNotFoundError(
            f"a provided runtime needs an executable {bootstrap.name} in the code directory"
        )
    if not os.access(bootstrap, os.X_OK):
        raise PermissionError(f"{bootstrap} is not executable (chmod +x it)")


# Experimental Node.js features Lambda turns off, per runtime, and the flag that turns each back on through
# NODE_OPTIONS (https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html).
_NODE_DISABLED = {
    "20": (("--no-experimental-require-module", "--experimental-require-module"),),
    "22": (
        ("--no-experimental-require-module", "--experimental-require-module"),
        ("--no-experimental-detect-module", "--experimental-detect-module"),
    ),
}


def node_feature_flags(major: str, node_options: str) -> tuple[str, ...]:
    """The flags Lambda's ``nodejsNN.x`` adds, minus those the function re-enables in NODE_OPTIONS."""
    wanted = node_options.split()
    return tuple(off for off, on in _NODE_DISABLED.get(major, ()) if on not in wanted)


def prepare_world(
    name: str,
    runtime: str,
    handler: str,
    code_dir: Path,
    *,
    layers: Sequence[Path] = (),
    function_variables: Mapping[str, str] = MappingProxyType({}),
) -> FunctionWorld:
    """Provision the runtime and lay out the function's files (raises on a missing runtime or bad layer)."""
    if runtime.startswith("provided"):
        _check_bootstrap(code_dir / "bootstrap")
    files = FunctionFiles(name, code_dir, layers)
    try:
        return _world_for(files, runtime, handler, function_variables.get("NODE_OPTIONS", ""))
    except BaseException:
        files.close()
        raise


def _world_for(files: FunctionFiles, runtime: str, handler: str, node_options: str) -> FunctionWorld:
    task, opt = files.task_root, files.opt
    host_path = os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")
    library_path = _joined(task, task / "lib", opt / "lib")
    if runtime.startswith("python"):
        env = python_environment(runtime)
        version = runtime.removeprefix("python")
        python_path = _joined(
            task, opt / "python" / "lib" / f"python{version}" / "site-packages", opt / "python"
        )
        return FunctionWorld(
            files,
            [str(env.python), str(PYTHON_BOOTSTRAP), handler],
            env.describe(),
            {
                "PATH": _joined(env.python.parent, host_path, opt / "bin"),
                "LD_LIBRARY_PATH": library_path,
                "PYTHONPATH": python_path,
                READ_ONLY_VARIABLE: _joined(task, opt),
            },
        )
    if runtime.startswith("nodejs"):
        node = node_environment(runtime)
        major = runtime.removeprefix("nodejs").split(".")[0]
        files.link_node_modules(node.node_modules)
        node_path = _joined(
            opt / "nodejs" / f"node{major}" / "node_modules",
            opt / "nodejs" / "node_modules",
            node.node_modules,
            BOOTSTRAP_DIR,
            task,
        )
        # Lambda's file system is read-only outside /tmp: node's permission model refuses other writes.
        writable = files.root / "tmp-*"  # every environment's tmp dir (a glob node understands)
        confine = (*node.permission_flags, f"--allow-fs-write={writable}") if node.permission_flags else ()
        return FunctionWorld(
            files,
            [str(node.node), *confine, *node_feature_flags(major, node_options), str(NODE_BOOTSTRAP)],
            node.describe(),
            {
                "PATH": _joined(node.node.parent, host_path, opt / "bin"),
                "LD_LIBRARY_PATH": library_path,
                "NODE_PATH": node_path,
            },
        )
    bootstrap = task / "bootstrap"
    _check_bootstrap(bootstrap)
    return FunctionWorld(
        files,
        [str(bootstrap)],
        f"{runtime} ({bootstrap.name} from the code directory)",
        {"PATH": _joined(host_path, opt / "bin"), "LD_LIBRARY_PATH": library_path},
    )
