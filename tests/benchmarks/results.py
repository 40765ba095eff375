"""bench/results.json: every benchmark's figures, each under its own key, for the report's
appendix. A benchmark replaces its own key and keeps the others'."""

from __future__ import annotations

import json

from nhanes_bone.core.settings import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "bench" / "results.json"


def save(key: str, figures: dict) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    known = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    known[key] = figures
    RESULTS.write_text(json.dumps(known, indent=2))
    print(f"written to {RESULTS} ({key})")
