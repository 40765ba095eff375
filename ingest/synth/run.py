"""Generate the synthetic twin: participants → NHANES files → TRUTH.json.

Order matters for the planted truth: the analytic cohort (which needs only who has
metals, scans and answers) is found first, its metal quartiles are cut, and only then
are BMD values drawn from the logistic model on those quartiles. The expected counts
are computed afterwards from the files as written and read back, so that they describe
exactly the bytes the warehouse will ingest.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
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
from nhanes_bone.core.processes import die_with_parent

GENERATOR = "nhanes-bone synthetic twin v1"
COMPONENTS = (
    "DEMO",
    "PBCD",
    "DXXFEM",
    "DXXSPN",
    "BMX",
    "BPQ",
    "DIQ",
    "SMQ",
    "OSQ",
    "RHQ",
    "CBC",
    "COT",
    "BIOPRO",
)
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
        "COT": df["_examined"] & (a >= 3),
        "BIOPRO": df["_has_biopro"],
    }[component]


def prescriptions(df: pd.DataFrame, design: CycleDesign) -> pd.DataFrame:
    """RXQ_RX: one row per medicine and participant (several per participant), one row with
    RXDUSE = 2 and no drug for a participant who took none; official columns and order."""
    seqn, use, drug, code, days, reason, reason_text = [], [], [], [], [], [], []
    bone = truth_model.BONE_MEDICINES
    other = truth_model.OTHER_MEDICINES
    for person, picks, bone_index in zip(df.SEQN, df["_other_medicines"], df["_bone_medicine"], strict=True):
        medicines = [other[i] for i in picks]
        if bone_index >= 0:
            medicines.insert(len(medicines) // 2, bone[bone_index][:2] + truth_model.BONE_REASON)
        for name, drug_code, icd, icd_text in medicines or [("", "", "", "")]:
            seqn.append(person)
            use.append(1.0 if medicines else 2.0)
            drug.append(name)
            code.append(drug_code)
            days.append(365.0 if medicines else np.nan)
            reason.append(icd)
            reason_text.append(icd_text)
    count = pd.Series(seqn).map(pd.Series(seqn).value_counts()).astype(float).to_numpy()
    given = {
        "SEQN": np.asarray(seqn, dtype=float),
        "RXDUSE": np.asarray(use),
        "RXDDRUG": np.asarray(drug, dtype=object),
        "RXDDRGID": np.asarray(code, dtype=object),
        "RXDDAYS": np.asarray(days),
        "RXDRSC1": np.asarray(reason, dtype=object),
        "RXDRSD1": np.asarray(reason_text, dtype=object),
        "RXDCOUNT": np.where(np.asarray(use) == 1, count, np.nan),
    }
    return _official(table_name("RXQ_RX", design), given, len(seqn))


def _official(name: str, given: dict, n: int, complete: bool = True) -> pd.DataFrame:
    """A table with ``name``'s official columns in their order: given ones, the rest empty
    (or, when not ``complete``, left out)."""
    columns = {}
    for spec in load_columns()[name]:
        if spec.name in given:
            columns[spec.name] = given[spec.name]
        elif not complete:
            continue
        elif spec.type == "character":
            columns[spec.name] = np.full(n, "", dtype=object)
        else:
            columns[spec.name] = np.full(n, np.nan)
    return pd.DataFrame(columns)


def split_tables(
    df: pd.DataFrame, design: CycleDesign, columns: Callable[[str], list[str]] | None = None
) -> Iterator[tuple[str, pd.DataFrame]]:
    """Cut a cycle's wide frame into its NHANES files, official columns in official order, one
    file at a time (at 100x NHANES a cycle's files together are gigabytes).

    With ``columns`` (a table name → the columns wanted), each file holds only those of its
    official columns, and there are no prescriptions: the provisional cut of ``synthesize``."""
    weight = "2YR" if design.suffix == "H" else "PRP"
    # assign shares the people frame's columns (copy-on-write) instead of copying them
    df = df.assign(
        **{
            f"WTINT{weight}": df["_wt_int"],
            f"WTMEC{weight}": df["_wt_mec"],
            "SDDSRVYR": float(design.sddsrvyr),
        }
    )
    for component in COMPONENTS:
        name = table_name(component, design)
        part = df[_rows(component, df, design).to_numpy()]
        wanted = part.columns if columns is None else [c for c in columns(name) if c in part.columns]
        yield name, _official(name, {c: part[c].to_numpy() for c in wanted}, len(part), columns is None)
        del part
    if columns is None:
        yield table_name("RXQ_RX", design), prescriptions(df, design)


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
    extra = np.random.default_rng([seed, 1])  # the sensitivity covariates' own stream
    frames = {}
    starts = seqn_starts(scale)
    for suffix, design in CYCLES.items():
        df = people(replace(design, first_seqn=starts[suffix]), scale, rng, extra)
        scan_status(df, design, rng)
        frames[suffix] = df

    # the cohort before BMD values exist: a valid scan counts as "measured"
    # memory: at 100x NHANES every whole-frame copy is gigabytes, so the provisional frames
    # share their columns with the people frames (pandas' copy-on-write), each is dropped as
    # soon as it has served, and a cycle's people frame once its files are written
    provisional = {}
    for suffix, design in CYCLES.items():
        df = frames[suffix]
        femur = np.where(df["_femur_valid"], 1.0, np.nan)
        df = df.assign(DXXOFBMD=femur, DXXNKBMD=femur, DXXOSBMD=np.where(df["_spine_valid"], 1.0, np.nan))
        provisional.update(split_tables(df, design, truth.used_columns))
        del df
    wide = truth.wide(provisional)
    cohort = wide[truth.flow_masks(wide)[-1][1]]
    cuts = {metal: truth.quartile_cuts(cohort[col]) for metal, col in truth.METAL_COLUMNS.items()}
    del provisional, wide, cohort

    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    # pyreadstat's writer goes cell by cell in Python (three quarters of the generator's time),
    # so files are written in worker processes, one per core, while the next is cut; at most
    # one file per worker waits in memory. A file's bytes do not depend on who wrote it. The
    # workers die with the generator (a killed one would leave them waiting on its queue).
    workers = os.cpu_count() or 1
    with ProcessPoolExecutor(
        max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),)
    ) as pool:
        writing: deque[Future[None]] = deque()
        for suffix, design in CYCLES.items():
            df = frames.pop(suffix)
            bmd_values(df, cuts, rng)
            for name, table in split_tables(df, design):
                if len(writing) >= workers:
                    writing.popleft().result()
                path = out / f"{name}.XPT"
                writing.append(pool.submit(write_xpt, table, path, name, design.release_stamp))
                written[name] = path
                del table
            del df
        for done in writing:
            done.result()
        # the truth from the bytes as written: only the columns it reads (and SEQN, for the counts)
        read_back = dict(zip(written, pool.map(_read_used, written, written.values()), strict=True))
        digests = dict(zip(written, pool.map(sha256_of, written.values()), strict=True))
    expected = truth.expected(read_back)
    expected_study2 = expected.pop("study2")
    catalog = load_catalog()
    files = {
        path.name: {
            "sha256": digests[name],
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


def _read_used(name: str, path: Path) -> pd.DataFrame:
    present = {spec.name for spec in load_columns()[name]}
    wanted = [c for c in truth.used_columns(name) if c in present]
    return pyreadstat.read_xport(str(path), usecols=wanted)[0]


def _write_json(path: Path, content: dict) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as fh:
        json.dump(content, fh, indent=2, sort_keys=False)
        fh.write("\n")
    Path(fh.name).replace(path)
