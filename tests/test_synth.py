"""The synthetic twin: schema-faithful, deterministic, structured like NHANES, labelled synthetic."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from ingest.synth import synthesize
from ingest.synth.run import COMPONENTS

TABLES = [f"{c}_H" for c in (*COMPONENTS, "RXQ_RX")] + [f"P_{c}" for c in (*COMPONENTS, "RXQ_RX")]


def read(synthetic_dir: Path, table: str) -> pd.DataFrame:
    return pyreadstat.read_xport(str(synthetic_dir / f"{table}.XPT"))[0]


def test_every_study_file_is_written_and_readable_by_pyreadstat_and_pandas(synthetic_dir):
    for table in TABLES:
        path = synthetic_dir / f"{table}.XPT"
        frame, meta = pyreadstat.read_xport(str(path))
        assert meta.table_name == table
        assert meta.file_label.startswith("SYNTHETIC")
        via_pandas = pd.read_sas(path, format="xport")
        assert list(via_pandas.columns) == list(frame.columns)
        assert len(via_pandas) == len(frame) > 0


def test_names_and_labels_equal_the_genuine_files(synthetic_dir, shared_nhanes, manifest):
    """Every study file offline except the two with key variables only (DXXFEM_H, DXXSPN_H)."""
    key_only = {f["table"] for f in manifest["files"] if "key variables only" in f["kind"]}
    assert key_only == {"DXXFEM_H", "DXXSPN_H"}
    compared = 0
    for genuine in sorted(shared_nhanes.glob("*/*.XPT")):
        table = genuine.stem
        if table not in TABLES or table in key_only:
            continue
        real = pyreadstat.read_xport(str(genuine), metadataonly=True)[1]
        ours = pyreadstat.read_xport(str(synthetic_dir / f"{table}.XPT"), metadataonly=True)[1]
        assert ours.column_names == real.column_names, table
        assert ours.column_labels == real.column_labels, table
        compared += 1
    assert compared == 26  # the 28 study files of both cycles, less the two key-variable-only copies


def test_same_seed_gives_byte_identical_files(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    synthesize(a, seed=11, scale=0.1)
    synthesize(b, seed=11, scale=0.1)
    synthesize(c, seed=12, scale=0.1)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "DEMO_H.XPT").read_bytes() != (c / "DEMO_H.XPT").read_bytes()


def test_scale_multiplies_participants(tmp_path):
    truth = synthesize(tmp_path, seed=3, scale=0.1)
    assert truth["table_rows"]["DEMO_H.XPT"] == round(10175 * 0.1)
    assert truth["table_rows"]["P_DEMO.XPT"] == round(15560 * 0.1)


def test_official_structure(synthetic_dir):
    demo_h, demo_p = read(synthetic_dir, "DEMO_H"), read(synthetic_dir, "P_DEMO")
    # SEQN ranges of the real cycles (DEMO_H 73557-83731, P_DEMO 109263-124822)
    assert (demo_h.SEQN.min(), demo_h.SEQN.max()) == (73557, 83731)
    assert (demo_p.SEQN.min(), demo_p.SEQN.max()) == (109263, 124822)
    age = pd.concat([demo_h, demo_p]).set_index("SEQN").RIDAGEYR
    sex = pd.concat([demo_h, demo_p]).set_index("SEQN").RIAGENDR
    # metals: a half subsample with WTSH2YR in 2013-2014 (0 for some), nearly everyone in 2017-2020
    pbcd_h = read(synthetic_dir, "PBCD_H")
    adults = (demo_h.RIDAGEYR >= 12).sum()
    assert 0.35 < (age[pbcd_h.SEQN] >= 12).sum() / adults < 0.55
    assert (pbcd_h.WTSH2YR == 0).any() and (pbcd_h.WTSH2YR > 0).mean() > 0.9
    assert "WTSH2YR" not in read(synthetic_dir, "P_PBCD").columns
    # DXA for the eligible ages of each cycle; total spine missing for ~40% of scans
    for table, min_age in (("DXXFEM_H", 40), ("P_DXXFEM", 50), ("DXXSPN_H", 40), ("P_DXXSPN", 50)):
        assert age[read(synthetic_dir, table).SEQN].min() == min_age, table
    spine = pd.concat([read(synthetic_dir, "DXXSPN_H"), read(synthetic_dir, "P_DXXSPN")])
    assert 0.3 < spine.DXXOSBMD.isna().mean() < 0.5
    # questionnaires for their eligible ages
    assert age[read(synthetic_dir, "OSQ_H").SEQN].min() == 40
    assert age[read(synthetic_dir, "P_OSQ").SEQN].min() == 50
    rhq = read(synthetic_dir, "RHQ_H")
    assert (sex[rhq.SEQN] == 2).all()
    assert age[read(synthetic_dir, "BPQ_H").SEQN].min() == 16
    # refused / don't know codes at realistic (small, non-zero) rates
    osq = pd.concat([read(synthetic_dir, "OSQ_H"), read(synthetic_dir, "P_OSQ")])
    assert 0.03 < osq.OSQ150.isin([7, 9]).mean() < 0.15
    smq = pd.concat([read(synthetic_dir, "SMQ_H"), read(synthetic_dir, "P_SMQ")])
    assert 0 < smq.SMQ020.isin([7, 9]).mean() < 0.01
    assert (demo_h.DMDMARTL.isin([77, 99])).any()
    assert "DMDMARTZ" in demo_p.columns and "DMDMARTL" not in demo_p.columns


def test_women_50_plus_look_like_the_paper(synthetic_dir, truth):
    expected = truth["study1_expected"]
    paper = {
        "lead": (0.77, 1.16, 1.66),
        "cadmium": (0.25, 0.38, 0.61),
        "mercury": (0.39, 0.83, 1.70),
        "selenium": (172.07, 185.67, 201.84),
        "manganese": (7.49, 9.30, 11.41),
    }
    for metal, cuts in paper.items():
        q = expected["metal_quartiles"][metal]
        ours = (q["q1_upper"], q["q2_upper"], q["q3_upper"])
        np.testing.assert_allclose(ours, cuts, rtol=0.12, err_msg=metal)
    share = expected["cohort_osteoporosis_n"] / expected["cohort_n"]
    assert 0.13 < share < 0.23, share  # the paper: 161/905 = 17.8%


def test_marker_and_truth_say_synthetic(synthetic_dir):
    marker = json.loads((synthetic_dir / "SYNTHETIC.json").read_text())
    assert marker["synthetic"] is True
    assert set(marker["files"]) == {f"{t}.XPT" for t in TABLES}
    truth = json.loads((synthetic_dir / "TRUTH.json").read_text())
    assert truth["synthetic"] is True
    steps = [s["step"] for s in truth["study1_expected"]["inclusion_flow"]]
    assert steps[0] == "all_participants" and steps[-1] == "complete_covariates"


def test_bad_scale_is_refused(tmp_path):
    with pytest.raises(ValueError, match="scale"):
        synthesize(tmp_path, scale=0)


@pytest.mark.parametrize("scale", [0.1, 1, 3.5, 10, 100])
def test_participant_ids_never_repeat_across_cycles_at_any_scale(scale):
    """At 10× the 2013-2014 range (from 73,557) used to run past 109,263, where 2017-2020
    starts: 66,044 repeated SEQNs and 11 failed staging uniqueness tests."""
    from ingest.synth.people import CYCLES, seqn_starts

    starts = seqn_starts(scale)
    ranges = [(starts[s], starts[s] + max(1, round(d.n * scale))) for s, d in CYCLES.items()]
    assert all(end <= nxt for (_, end), (nxt, _) in zip(ranges, ranges[1:], strict=False))
    if scale <= 1:  # the twin at 1× keeps the genuine ranges
        assert starts == {s: d.first_seqn for s, d in CYCLES.items()}
