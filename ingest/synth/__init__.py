"""The synthetic NHANES twin: schema-faithful XPT files with a planted truth.

Every file is labelled synthetic (its SAS file label and a ``SYNTHETIC.json`` sidecar),
so the warehouse records ``raw._files.is_synthetic = true`` and every report says so.
"""

from ingest.synth.run import synthesize

__all__ = ["synthesize"]
