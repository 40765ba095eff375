"""`nhanes-bone bkmr` on a CSV: every promised file, and bad input named."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from nhanes_bone.cli import app


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    rng = np.random.default_rng(5)
    n = 150
    d = pd.DataFrame({f"m{i}": np.exp(rng.normal(size=n)) for i in range(3)})
    d["age"] = rng.normal(60, 8, n)
    d["sex"] = rng.choice(["F", "M"], n)
    d["op"] = (np.log(d.m0) + 0.02 * (d.age - 60) + rng.normal(size=n) > 0).astype(int)
    path = tmp_path_factory.mktemp("bkmr") / "data.csv"
    d.to_csv(path, index=False)
    return path


def _run(args):
    return CliRunner().invoke(app, ["bkmr", *map(str, args)], terminal_width=200)


def test_bkmr_cli_writes_every_file(csv, tmp_path):
    out = tmp_path / "fit"
    common = ["--data", csv, "--outcome", "op", "--exposures", "m0,m1,m2", "--covariates", "age,sex"]
    common += ["--family", "binomial", "--iter", 200, "--chains", 2, "--seed", 3, "--log", "--standardize"]
    result = _run([*common, "--out", out])
    assert result.exit_code == 0, result.output
    for name in (
        "pips.csv",
        "overall_risk.csv",
        "univariate.csv",
        "singvar.csv",
        "beta.csv",
        "diagnostics.json",
        "trace.png",
        "draws.csv.gz",
    ):
        assert (out / name).stat().st_size > 0, name

    def pooled(name: str) -> pd.DataFrame:
        """The pooled rows (chain "all"); each chain's follow when the chains disagree."""
        table = pd.read_csv(out / name, dtype={"chain": str})
        assert set(table.chain) in ({"all"}, {"all", "0", "1"}), name
        return table[table.chain == "all"]

    assert pooled("pips.csv").variable.tolist() == ["m0", "m1", "m2"]
    assert pooled("overall_risk.csv")["quantile"].round(2).tolist() == [
        0.25,
        0.3,
        0.35,
        0.4,
        0.45,
        0.5,
        0.55,
        0.6,
        0.65,
        0.7,
        0.75,
    ]
    assert len(pooled("univariate.csv")) == 3 * 50
    singvar = pooled("singvar.csv")
    assert sorted(singvar.q_fixed.unique()) == [0.25, 0.5, 0.75] and len(singvar) == 9
    beta = pooled("beta.csv")
    assert beta.covariate.tolist() == ["age", "sexM"]
    # age is centred and scaled (recorded), the 0/1 dummy is not
    assert beta.set_index("covariate").scaled_sd["sexM"] == 1.0 and beta.scaled_sd.iloc[0] > 1
    assert set(json.loads((out / "diagnostics.json").read_text())["covariate_scaling"]) == {"age"}
    draws = pd.read_csv(out / "draws.csv.gz")
    assert len(draws) == 2 * 200 and {
        "chain",
        "iteration",
        "lambda",
        "r[m0]",
        "delta[m2]",
        "beta[sexM]",
    } <= set(draws.columns)
    diag = json.loads((out / "diagnostics.json").read_text())
    assert diag["chains"] == 2 and diag["burn_in"] == 100 and len(diag["per_chain"]) == 2
    # the same seed gives the same fit; --method exact runs over the thinned draws
    again = tmp_path / "again"
    result = _run([*common, "--method", "exact", "--out", again])
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(pd.read_csv(out / "pips.csv"), pd.read_csv(again / "pips.csv"))
    pd.testing.assert_frame_equal(pd.read_csv(out / "draws.csv.gz"), pd.read_csv(again / "draws.csv.gz"))
    assert json.loads((again / "diagnostics.json").read_text())["summary_method"] == "exact"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--exposures", "m0,nope"], "columns not in the data: nope"),
        (["--exposures", "m0", "--outcome", "age", "--family", "binomial"], "outcome age must be 0/1"),
        (["--exposures", "age", "--log", "--covariates", ""], None),
        (["--exposures", "m0", "--family", "poisson"], "family must be gaussian or binomial"),
    ],
)
def test_bkmr_cli_names_bad_input(csv, tmp_path, extra, message):
    args = [
        "--data",
        csv,
        "--outcome",
        "op",
        "--exposures",
        "m0",
        "--iter",
        20,
        "--chains",
        1,
        "--out",
        tmp_path / "o",
        *extra,
    ]
    result = _run(args)
    if message is None:  # ages are positive: --log is fine, and no covariates is allowed (bkmr's missing X)
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
