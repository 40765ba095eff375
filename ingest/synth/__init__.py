"""The synthetic NHANES twin: schema-faithful XPT files with a planted truth.

Every file is labelled synthetic (its SAS file label and a ``SYNTHETIC.json`` sidecar),
so the warehouse records ``raw._files.is_synthetic = true`` and every report says so.

``synthesize`` is imported on first use: a build reads ``ingest.synth.definition`` and
must not import the generator (numpy, pandas) to do it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["synthesize"]


def __getattr__(name: str) -> Any:
    if name == "synthesize":
        from ingest.synth.run import synthesize

        return synthesize
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
