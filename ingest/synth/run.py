"""Generate the synthetic twin: participants → NHANES files → TRUTH.json.

Order matters for the planted truth: the analytic cohort (which needs only who has
metals, scans and answers) is found first, its metal quartiles are cut, and only then
are BMD values drawn from the logistic model on those quartiles. The expected counts
are computed afterwards from the files as written and read back, so that they describe
exactly the bytes the warehouse will ingest.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from ingest.discover import SYNTHETIC_LABEL_PREFIX, SYNTHETIC_MARKER
from ingest.synth import truth, truth_model
from ingest.synth.bones import bmd_values, scan_status
from ingest.synth.people import CYCLES, CycleDesign, people, seqn_starts
from ingest.xpt import OBS_HEADER, sha256_of
from nhanes_bone.core.catalog import load_catalog, load_columns
from nhanes_bone.core.errors import InputError

GENERATOR = "nhanes-bone synthetic twin v1"
COMPONENTS = ("DEMO", "PBCD", "DXXFEM", "DXXSPN", "BMX", "BPQ", "DIQ", "SMQ", "OSQ", "RHQ", "CBC")
_SAS_STAMP = re.compile(rb"\d\d[A-Z]{3}\d\d:\d\d:\d\d:\d\d")


def table_name(component: str, design: CycleDesign) -> str:
    return f"{component}_H" if design.suffix == "H" else f"P_{component}"


def _rows(component: str, df: pd.DataFrame, design: CycleDesign) -> pd.Series:
    a = df.RIDAGEYR
    return {
        "DEMO": pd.Series(True, index=df.index),
        "PBCD": df["_in_metal_sample"],
        "DXXFEM": df["_dxa"],
        "DXXSPN": df["_dxa"],
        "BMX": df["_examined"],
        "BPQ": a >= 16,
        "DIQ": a >= 1,
        "SMQ": a >= 12,
        "OSQ": a >= design.osq_min_age,
        "RHQ": (df.RIAGENDR == 2) & (a >= 12),
        "CBC": df["_examined"] & (a >= 1),
    }[component]


def split_tables(df: pd.DataFrame, design: CycleDesign) -> dict[str, pd.DataFrame]:
    """Cut a cycle's wide frame into its NHANES files, official columns in official order."""
    df = df.copy()
    weight = "2YR" if design.suffix == "H" else "PRP"
    df[f"WTINT{weight}"] = df["_wt_int"]
    df[f"WTMEC{weight}"] = df["_wt_mec"]
    df["SDDSRVYR"] = float(design.sddsrvyr)
    specs = load_columns()
    out = {}
    for component in COMPONENTS:
        name = table_name(component, design)
        part = df[_rows(component, df, design).to_numpy()]
        columns = {}
        for spec in specs[name]:
            if spec.name in part.columns:
                columns[spec.name] = part[spec.name].to_numpy()
            elif spec.type == "character":
                columns[spec.name] = np.full(len(part), "", dtype=object)
            else:
                columns[spec.name] = np.full(len(part), np.nan)
        out[name] = pd.DataFrame(columns)
    return out


def write_xpt(frame: pd.DataFrame, path: Path, name: str, stamp: str) -> None:
    """An XPT v5 file whose bytes depend only on its content (fixed header dates)."""
    labels = [spec.label for spec in load_columns()[name]]
    pyreadstat.write_xport(
        frame,
        str(path),
        file_label=f"{SYNTHETIC_LABEL_PREFIX} - not NHANES data",
        column_labels=labels,
        table_name=name,
        file_format_version=5,
    )
    raw = path.read_bytes()
    cut = raw.find(OBS_HEADER)
    header = _SAS_STAMP.sub(stamp.encode(), raw[:cut])
    path.write_bytes(header + raw[cut:])


def synthesize(out: Path, seed: int = 20250101, scale: float = 1.0) -> dict:
    """Write every study file of both cycles, ``SYNTHETIC.json`` and ``TRUTH.json`` to ``out``."""
    if scale <= 0:
        raise InputError(f"--scale must be positive, got {scale}")
    rng = np.random.default_rng(seed)
    frames = {}
    starts = seqn_starts(scale)
    for suffix, design in CYCLES.items():
        df = people(replace(design, first_seqn=starts[suffix]), scale, rng)
        scan_status(df, design, rng)
        frames[suffix] = df

    # the cohort before BMD values exist: a valid scan counts as "measured"
    provisional = {}
    for suffix, design in CYCLES.items():
        df = frames[suffix].copy()
        for col in ("DXXOFBMD", "DXXNKBMD"):
            df[col] = np.where(df["_femur_valid"], 1.0, np.nan)
        df["DXXOSBMD"] = np.where(df["_spine_valid"], 1.0, np.nan)
        provisional.update(split_tables(df, design))
    wide = truth.wide(provisional)
    cohort = wide[truth.flow_masks(wide)[-1][1]]
    cuts = {metal: truth.quartile_cuts(cohort[col]) for metal, col in truth.METAL_COLUMNS.items()}

    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for suffix, design in CYCLES.items():
        bmd_values(frames[suffix], cuts, rng)
        for name, table in split_tables(frames[suffix], design).items():
            path = out / f"{name}.XPT"
            write_xpt(table, path, name, design.release_stamp)
            written[name] = path

    read_back = {name: pyreadstat.read_xport(str(path))[0] for name, path in written.items()}
    expected = truth.expected(read_back)
    expected_study2 = expected.pop("study2")
    catalog = load_catalog()
    files = {
        path.name: {
            "sha256": sha256_of(path),
            "rows": len(read_back[name]),
            "cycle": catalog[name].cycle,
        }
        for name, path in sorted(written.items())
    }
    marker = {
        "synthetic": True,
        "generator": GENERATOR,
        "seed": seed,
        "scale": scale,
        "note": "Synthetic data generated by nhanes-bone; not NHANES data and not findings.",
        "files": files,
    }
    truth_doc = {
        "synthetic": True,
        "generator": GENERATOR,
        "seed": seed,
        "scale": scale,
        "planted": truth_model.as_json(),
        "planted_quartile_cuts": {m: list(c) for m, c in cuts.items()},
        "study1_expected": expected,
        "study2_expected": expected_study2,
        "table_rows": {name: info["rows"] for name, info in files.items()},
    }
    _write_json(out / SYNTHETIC_MARKER, marker)
    _write_json(out / "TRUTH.json", truth_doc)
    return truth_doc


def _write_json(path: Path, content: dict) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as fh:
        json.dump(content, fh, indent=2, sort_keys=False)
        fh.write("\n")
    Path(fh.name).replace(path)
