"""The ``nhanes-bone`` command, at the top of the layers: thin commands that parse arguments,
call the layers below and print. Every other module of the project is importable without it."""

from nhanes_bone.cli.app import app, main

__all__ = ["app", "main"]
