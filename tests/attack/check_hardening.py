#!/usr/bin/env python3
"""Checks with readelf that a Release `rempart` carries the hardening the
top-level CMakeLists asks for: PIE, full RELRO (GNU_RELRO + BIND_NOW), a
non-executable stack, stack protector (__stack_chk_fail), FORTIFY_SOURCE
(__*_chk functions), and CET (-fcf-protection: IBT and SHSTK properties).

CET: the linker keeps the IBT/SHSTK property only if every input object has
it, and Debian 12's glibc start files (crt1.o, crti.o) do not, so no
executable linked here carries it. Where the binary lacks it, the check falls
back to the project's own object files, which must all carry it.

Usage: check_hardening.py BINARY [BUILD_DIR]
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from attacklib import Tally  # noqa: E402


def readelf(*args: str) -> str:
    return subprocess.run(["readelf", "-W", *args], capture_output=True, text=True, check=True).stdout


def has_cet(path: Path) -> bool:
    notes = readelf("-n", str(path))
    return bool(re.search(r"x86 feature: .*IBT", notes)) and "SHSTK" in notes


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    binary = Path(sys.argv[1])
    build = Path(sys.argv[2]) if len(sys.argv) > 2 else binary.parents[2]
    t = Tally("hardening")
    if not t.check(binary.exists(), "binary exists", str(binary)):
        return t.finish()

    header = readelf("-h", str(binary))
    dynamic = readelf("-d", str(binary))
    segments = readelf("-l", str(binary))
    symbols = readelf("--dyn-syms", str(binary))

    t.check("DYN (Position-Independent Executable" in header or re.search(r"FLAGS_1.*\bPIE\b", dynamic) is not None,
            "PIE", header)
    t.check("GNU_RELRO" in segments, "RELRO segment")
    t.check(re.search(r"\(FLAGS\).*BIND_NOW", dynamic) is not None or
            re.search(r"FLAGS_1.*\bNOW\b", dynamic) is not None, "BIND_NOW (full RELRO)")
    stack = re.search(r"GNU_STACK.*\s(RWE?)\s", segments)
    t.check(stack is not None and stack.group(1) == "RW", "non-executable stack", stack.group(0) if stack else "none")
    t.check("__stack_chk_fail" in symbols, "stack protector (__stack_chk_fail)")
    chk = sorted(set(re.findall(r"\b(__\w+_chk)\b", symbols)) - {"__stack_chk_fail"})
    t.check(bool(chk), "FORTIFY_SOURCE (__*_chk functions)")
    t.note(f"fortified calls: {', '.join(chk)}")
    t.check("RPATH" not in dynamic and "RUNPATH" not in dynamic, "no RPATH/RUNPATH")

    if has_cet(binary):
        t.check(True, "CET (IBT, SHSTK) on the binary")
    else:
        objs = [p for p in build.rglob("*.o") if "/src/" in str(p)]
        missing = [str(p) for p in objs if not has_cet(p)]
        t.check(bool(objs) and not missing, "CET (IBT, SHSTK) on every project object file",
                f"{len(missing)} of {len(objs)} lack it, e.g. {missing[:3]}")
        t.note("the binary itself has no CET property: the C library's start files lack it "
               f"({len(objs)} project objects checked instead)")
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
