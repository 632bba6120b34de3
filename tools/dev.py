#!/usr/bin/env python3
"""Bootstrap for the two README commands; needs nothing but Python 3.11+.

    python3 tools/dev.py run      # the whole portal in the foreground (make run)
    python3 tools/dev.py test     # the whole test suite (make test)

Creates .venv and installs requirements.lock (hash-checked) when the lock changed since
the last install, then hands over to portal.devstack inside the virtual environment.
"""

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".installed-lock-sha256"


def main() -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - runs under the system python3
        print("Python 3.11 or newer is needed.", file=sys.stderr)
        return 2
    python = VENV / "bin" / "python"
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if not python.exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if not STAMP.exists() or STAMP.read_text().strip() != digest:
        print("installing locked dependencies …", flush=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--require-hashes",
                "--no-deps",
                "-r",
                str(LOCK),
            ],
            check=True,
        )
        STAMP.write_text(digest)
    os.chdir(ROOT)
    os.execv(str(python), [str(python), "-m", "portal.devstack", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
