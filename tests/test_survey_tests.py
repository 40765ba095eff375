"""Design-based descriptive tests against R's survey 4.1.1 (tests/reference/svytests_reference.R):
svychisq's Rao–Scott F, svyttest and svymean, on the whole design and in a domain."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.methods.survey import Design, SurveyError
from analysis.methods.survey_tests import design_t_test, rao_scott, weighted_mean

REFERENCE = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def data():
    frame = pd.read_csv(REFERENCE / "svy_data.csv")
    design = Design.from_frame(frame, "weight", "stratum", "psu")
    return frame, design, json.loads((REFERENCE / "svytests_reference.json").read_text())


@pytest.mark.parametrize(
    ("key", "rows", "domain"),
    [
        ("chisq_grp_ybin", "grp", False),
        ("chisq_x2_ybin", "x2", False),
        ("chisq_grp_ybin_domain", "grp", True),
    ],
)
def test_rao_scott_f_matches_svychisq(data, key, rows, domain):
    frame, design, ref = data
    mask = (frame.x1 > 0).to_numpy() if domain else None
    result = rao_scott(frame[rows].to_numpy(), frame.y_bin.to_numpy(), design, mask)
    assert_allclose(
        [result.statistic, result.ndf, result.ddf, result.p_value],
        [ref[key]["statistic"], ref[key]["ndf"], ref[key]["ddf"], ref[key]["p_value"]],
        rtol=1e-7,
    )


@pytest.mark.parametrize(
    ("key", "value", "group", "domain"),
    [("ttest_ycont_ybin", "y_cont", "y_bin", False), ("ttest_x1_x2_domain", "y_cont", "x2", True)],
)
def test_design_t_test_matches_svyttest(data, key, value, group, domain):
    frame, design, ref = data
    mask = (frame.x1 > 0).to_numpy() if domain else None
    result = design_t_test(frame[value].to_numpy(float), frame[group].to_numpy(float), design, mask)
    assert_allclose(
        [result.difference, result.statistic, result.p_value],
        [ref[key]["difference"], ref[key]["statistic"], ref[key]["p_value"]],
        rtol=1e-7,
    )
    assert result.df == ref[key]["df"]


@pytest.mark.parametrize(
    ("key", "column", "domain"),
    [
        ("mean_ycont", "y_cont", False),
        ("mean_ycont_domain", "y_cont", True),
        ("mean_ybin_domain", "y_bin", True),
    ],
)
def test_weighted_mean_matches_svymean(data, key, column, domain):
    frame, design, ref = data
    mask = (frame.x1 > 0).to_numpy() if domain else None
    mean, se = weighted_mean(frame[column].to_numpy(float), design, mask)
    assert_allclose([mean, se], [ref[key]["mean"], ref[key]["se"]], rtol=1e-7)


def test_a_table_with_one_level_is_refused(data):
    frame, design, _ = data
    with pytest.raises(SurveyError, match="two levels"):
        rao_scott(np.ones(len(frame)), frame.y_bin.to_numpy(), design)
