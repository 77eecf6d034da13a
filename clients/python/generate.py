#!/usr/bin/env python3
"""Generates the Python client stubs of Baton's API from proto/baton/v1 with grpcio-tools.

    python3 clients/python/generate.py [OUT_DIR]     # default: clients/python/build

Afterwards `sys.path.insert(0, OUT_DIR)` and `from baton.v1 import workflow_service_pb2_grpc`.
Generated code is not committed: it is derived from the protos, which are the source of truth.
"""

import subprocess
import sys
from pathlib import Path

import grpc_tools

HERE = Path(__file__).resolve().parent
PROTO_ROOT = HERE.parent.parent / "proto"


def generate(out_dir: Path) -> Path:
    """Writes baton/v1/*_pb2.py and *_pb2_grpc.py under out_dir and returns out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / "baton" / "v1").glob("*.proto"))
    if not protos:
        raise RuntimeError(f"no .proto files under {PROTO_ROOT / 'baton' / 'v1'}")
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    cmd = [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_ROOT}", f"-I{well_known}",
           f"--python_out={out_dir}", f"--grpc_python_out={out_dir}", *protos]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"protoc failed ({' '.join(cmd)}):\n{result.stderr}")
    for package in (out_dir / "baton", out_dir / "baton" / "v1"):
        (package / "__init__.py").touch()
    return out_dir


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "build"
    print(generate(target))
