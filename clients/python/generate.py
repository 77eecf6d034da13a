#!/usr/bin/env python3
"""Generates the Python stubs of Baton's API (proto/baton/v1) into the `baton` package.

    python3 clients/python/generate.py            # rewrite clients/python/baton/v1/*_pb2*.py (committed)
    python3 clients/python/generate.py --check    # exit 1, naming each stale file, when they are out of date
    python3 clients/python/generate.py OUT_DIR    # write a standalone tree OUT_DIR/baton/v1 instead

The stubs are produced by grpcio-tools' protoc, then their imports of each other are made
relative (`from . import common_pb2`), so they work inside the installed `baton` package (or any
other package that vendors them). `--check` regenerates into a temporary directory and compares;
the lines that only record the generator's version (protobuf gencode version, grpcio's
GRPC_GENERATED_VERSION) are ignored, so another grpcio-tools release does not count as drift.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTO_ROOT = HERE.parent.parent / "proto"
PACKAGE_V1 = HERE / "baton" / "v1"

INIT_TEXT = ('"""Generated protobuf and gRPC stubs of proto/baton/v1 (clients/python/generate.py).\n\n'
             'Do not edit: regenerate with `python3 clients/python/generate.py`.\n"""\n')
_ABSOLUTE_IMPORT = re.compile(r"^from baton\.v1 import (\w+) as ", re.M)
_VERSION_LINES = [
    re.compile(r"^# Protobuf Python Version: .*$", re.M),
    re.compile(r"(_runtime_version\.Domain\.PUBLIC,\n)\s*\d+,\n\s*\d+,\n\s*\d+,\n\s*'[^']*',", re.M),
    re.compile(r"^GRPC_GENERATED_VERSION = .*$", re.M),
]


def _protos() -> list[str]:
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / "baton" / "v1").glob("*.proto"))
    if not protos:
        raise RuntimeError(f"no .proto files under {PROTO_ROOT / 'baton' / 'v1'}")
    return protos


def _run_protoc(out_dir: Path) -> None:
    import grpc_tools  # grpcio-tools: protoc with the Python and gRPC plugins

    well_known = Path(grpc_tools.__file__).parent / "_proto"
    cmd = [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_ROOT}", f"-I{well_known}",
           f"--python_out={out_dir}", f"--grpc_python_out={out_dir}", *_protos()]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"protoc failed ({' '.join(cmd)}):\n{result.stderr}")


def _write_v1(target: Path) -> list[Path]:
    """Generates the stubs into `target` (a `v1` package directory); returns the files written."""
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="baton-gen-") as raw:
        _run_protoc(Path(raw))
        written = []
        for source in sorted((Path(raw) / "baton" / "v1").glob("*.py")):
            text = _ABSOLUTE_IMPORT.sub(r"from . import \1 as ", source.read_text())
            (target / source.name).write_text(text)
            written.append(target / source.name)
    (target / "__init__.py").write_text(INIT_TEXT)
    return [target / "__init__.py", *written]


def generate(out_dir: Path | None = None) -> Path:
    """Regenerates the stubs and returns the directory that holds the `baton` package.

    Without `out_dir`, rewrites the committed stubs in clients/python/baton/v1 (stale files that
    no longer come from a proto are removed); with it, writes OUT_DIR/baton/v1 (and an empty
    OUT_DIR/baton/__init__.py when there is none), for code that only wants the stubs.
    """
    if out_dir is None:
        for stale in PACKAGE_V1.glob("*_pb2*.py"):
            stale.unlink()
        _write_v1(PACKAGE_V1)
        return HERE
    out_dir = Path(out_dir)
    _write_v1(out_dir / "baton" / "v1")
    init = out_dir / "baton" / "__init__.py"
    if not init.exists():
        init.write_text("")
    return out_dir


def _normalized(text: str) -> str:
    for pattern in _VERSION_LINES:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "<version>", text)
    return text


def stale_files() -> list[str]:
    """The committed stub files that differ from a fresh generation (missing, extra or changed)."""
    with tempfile.TemporaryDirectory(prefix="baton-check-") as tmp:
        fresh_dir = Path(tmp) / "v1"
        _write_v1(fresh_dir)
        fresh = {p.name: p for p in fresh_dir.glob("*.py")}
        committed = {p.name: p for p in PACKAGE_V1.glob("*.py")} if PACKAGE_V1.is_dir() else {}
        stale = []
        for name in sorted(set(fresh) | set(committed)):
            if name not in committed:
                stale.append(f"{name} (missing)")
            elif name not in fresh:
                stale.append(f"{name} (no longer generated)")
            elif _normalized(fresh[name].read_text()) != _normalized(committed[name].read_text()):
                stale.append(f"{name} (out of date)")
        return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", nargs="?", type=Path,
                        help="write OUT_DIR/baton/v1 instead of the committed package stubs")
    parser.add_argument("--check", action="store_true",
                        help="regenerate into a temporary directory and exit 1 if the committed stubs differ")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        if stale:
            rel = PACKAGE_V1.relative_to(HERE.parent.parent)
            print(f"generate.py --check: stale stubs in {rel}: {', '.join(stale)}; "
                  f"run `python3 clients/python/generate.py` and commit the result", file=sys.stderr)
            return 1
        print("generate.py --check: the stubs in clients/python/baton/v1 match proto/baton/v1")
        return 0
    print(generate(args.out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
