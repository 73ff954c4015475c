"""`--before DIR`: a benchmark times this source tree and, in the same run, another one (DIR/layers/mediajet,
e.g. a previous commit from `git archive <commit> layers/mediajet | tar -x -C DIR`)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def add_before(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--before", type=Path, help="another source tree to time in the same run")


def source_trees(before: Path | None) -> list[tuple[str, Path]]:
    """(label, tree) to time: "before" and "after", or only "this tree"."""
    if before is None:
        return [("this tree", ROOT)]
    return [("before", before.resolve()), ("after", ROOT)]


def compile_tree(tree: Path) -> None:
    """Bytecode for the tree's own modules, as an installed package has it (the dependencies got theirs
    from `uv sync`: pyproject's compile-bytecode); PYTHONDONTWRITEBYTECODE would otherwise make every run
    compile them from source."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "layers" / "mediajet")], check=True,
                   capture_output=True)


def tree_env(tree: Path) -> dict[str, str]:
    """What a child process needs to run that tree's mediajet."""
    return {"PYTHONPATH": str(tree / "layers" / "mediajet")}
