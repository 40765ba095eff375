"""The ``nhanes-bone`` command: the commands of each group register on one Typer app."""

from __future__ import annotations

from nhanes_bone.cli import (
    methods,  # noqa: F401
    studies,  # noqa: F401
    warehouse,  # noqa: F401
)

# isort: off  (the order of registration is the order of --help's panels)
from nhanes_bone.cli.common import app

# isort: on


def main() -> None:  # pragma: no cover - console-script entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
