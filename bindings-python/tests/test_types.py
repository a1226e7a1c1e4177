"""The type stubs match the extension (mypy.stubtest) and type-check a typical use (mypy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_stubtest_finds_no_difference() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "ipocket", "--ignore-missing-stub"],
        capture_output=True, text=True, timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_accepts_typed_use(tmp_path: Path) -> None:
    prog = tmp_path / "use.py"
    prog.write_text(
        "from ipocket import Inventory, expfmt, ParseError\n"
        "samples: list[expfmt.Sample] = expfmt.parse(b'a 1\\n')\n"
        "v: float = samples[0].value\n"
        "inv = Inventory()\n"
        "plan = inv.plan_bundle({'schema_version': '1', 'data': {}})\n"
        "n: int = plan.summary['total']['create']\n"
        "try:\n    expfmt.parse('x{ 1\\n')\nexcept ParseError as e:\n    line: int = e.line\n"
    )
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", str(prog)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
