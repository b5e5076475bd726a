"""Entry point of `make bench`: see bench/README.md. Usage:
.venv/bin/python bench/run.py [--routers telegraphy,crossbar]
    [--groups gateway,publisher,django,history,storm] [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from telebench.cli import main

if __name__ == "__main__":
    sys.exit(main())
