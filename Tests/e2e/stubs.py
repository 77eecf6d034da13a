"""Generates Python stubs for the gRPC interop protos at test time.

The protos come from Debian's grpc-proto package (/usr/share/grpc-proto).
Nothing generated here is committed: stubs are written to a temporary
directory and imported from there.

protoc is run with -I/usr/share/grpc-proto so the descriptors keep their
canonical file names ("grpc/testing/test.proto"), which is what the server's
reflection reports. The generated modules would live in a package called
`grpc.testing`, which would shadow the real `grpc` package, so they are moved
into one flat package (`baton_e2e_stubs`) and their imports rewritten.
"""

import os
import re
import subprocess
import sys
import types
from pathlib import Path

PROTO_ROOT = Path(os.environ.get("GRPC_PROTO_ROOT", "/usr/share/grpc-proto"))
PROTOS = [
    "grpc/testing/empty.proto",
    "grpc/testing/messages.proto",
    "grpc/testing/test.proto",
    "grpc/reflection/v1/reflection.proto",
]
PACKAGE = "baton_e2e_stubs"


def generate(dest: Path) -> types.SimpleNamespace:
    """Generates the stubs under `dest`, puts them on sys.path, returns the modules."""
    for p in PROTOS:
        if not (PROTO_ROOT / p).is_file():
            raise RuntimeError(f"{PROTO_ROOT / p} is missing: install Debian's grpc-proto (scripts/setup)")
    raw = dest / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_ROOT}",
           f"--python_out={raw}", f"--grpc_python_out={raw}", *PROTOS]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        raise RuntimeError(f"protoc failed ({' '.join(cmd)}):\n{res.stderr}")
    pkg = dest / "pkg" / PACKAGE
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    rewrite = re.compile(r"^from grpc\.(testing|reflection\.v1) import ", re.M)
    for sub in ("grpc/testing", "grpc/reflection/v1"):
        for f in (raw / sub).glob("*.py"):
            text = rewrite.sub(f"from {PACKAGE} import ", f.read_text())
            (pkg / f.name).write_text(text)
    sys.path.insert(0, str(dest / "pkg"))
    import importlib
    mods = {}
    for name in ("empty_pb2", "messages_pb2", "test_pb2", "test_pb2_grpc",
                 "reflection_pb2", "reflection_pb2_grpc"):
        mods[name.replace("_pb2", "").replace("_grpc", "_grpc")] = importlib.import_module(f"{PACKAGE}.{name}")
    return types.SimpleNamespace(
        empty=mods["empty"], messages=mods["messages"], test=mods["test"],
        test_grpc=mods["test_grpc"], reflection_v1=mods["reflection"],
        reflection_v1_grpc=mods["reflection_grpc"],
    )
