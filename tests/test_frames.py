"""Tables without pandas (``analysis.methods.frames``): a CSV read and written by the standard
library must give what pandas' read_csv and to_csv give, the reference here; a plain
``nhanes-bone wqs`` run must then not import pandas at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from analysis.methods.frames import columns_of, complete_rows, model_matrix, read_csv, write_csv

NUMERIC = "a,b,c\n1,0.1,-2.5e-3\n2,,1E5\nNA,.5,+3.\n4,nan,0.30000000000000004\n5,NULL,-0\n"


def _same_as_pandas(path: Path) -> None:
    mine, theirs = read_csv(path), pd.read_csv(path)
    assert list(mine) == list(theirs.columns)
    for name, values in columns_of(theirs, list(theirs.columns)).items():
        assert mine[name].dtype == values.dtype, name
        assert_array_equal(mine[name], values)


def test_a_numeric_csv_reads_as_pandas_reads_it(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text(NUMERIC)
    _same_as_pandas(path)
    assert read_csv(path)["a"].dtype == np.float64


@pytest.mark.parametrize(
    "text",
    [
        "a,g\n1,lo\n2,hi\n,hi\n",  # a text column
        "a,b\n1, 2\n3,4\n",  # a padded cell
        "a,a\n1,2\n",  # a repeated header
        "a,b\n1,2\n\n3,4\n",  # a blank line
        "a,flag\n1,True\n2,False\n",  # booleans: levels False and True
    ],
)
def test_anything_but_plain_numbers_is_read_by_pandas(tmp_path, text):
    path = tmp_path / "t.csv"
    path.write_text(text)
    _same_as_pandas(path)


def test_text_and_bool_columns_become_the_same_dummies_either_way():
    frame = pd.DataFrame({"g": ["b", "a", "c", "a"], "flag": [True, False, True, True], "x": [1, 2, 3, 4]})
    from_frame = model_matrix(frame, ["g", "flag", "x"])
    from_columns = model_matrix(columns_of(frame, ["g", "flag", "x"]), ["g", "flag", "x"])
    assert from_frame[1] == from_columns[1] == ["(Intercept)", "gb", "gc", "flagTrue", "x"]
    assert_array_equal(from_frame[0], from_columns[0])


def test_complete_rows_agree_on_a_frame_and_its_columns():
    frame = pd.DataFrame({"x": [1.0, None, 3.0, 4.0], "g": ["a", "b", None, "a"]})
    on_frame, _ = complete_rows(frame, ["x", "g"], None, ValueError)
    on_columns, _ = complete_rows(columns_of(frame, ["x", "g"]), ["x", "g"], None, ValueError)
    assert_array_equal(on_frame, [True, False, False, True])
    assert_array_equal(on_columns, on_frame)


def test_written_csv_has_the_bytes_pandas_writes(tmp_path):
    columns = {
        "boot": np.arange(1, 4),
        "w": np.array([0.1, 1 / 3, 1e-17]),
        "p": np.array([np.nan, np.inf, -0.0]),
        "note": np.array(["", "a, b", 'say "x"'], dtype=object),
    }
    write_csv(columns, tmp_path / "mine.csv")
    pd.DataFrame(columns).to_csv(tmp_path / "pandas.csv", index=False)
    assert (tmp_path / "mine.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()


def test_a_plain_wqs_run_does_not_import_pandas(tmp_path):
    rng = np.random.default_rng(3)
    n = 120
    frame = pd.DataFrame(rng.normal(size=(n, 4)), columns=["m1", "m2", "m3", "x"])
    frame["y"] = (rng.random(n) < 1 / (1 + np.exp(-frame.m1))).astype(int)
    frame.to_csv(tmp_path / "d.csv", index=False)
    args = ["wqs", "--data", str(tmp_path / "d.csv"), "--outcome", "y", "--mixture", "m1,m2,m3"]
    args += ["--covariates", "x", "--b", "5", "--seed", "1", "--jobs", "1", "--out", str(tmp_path / "o")]
    script = (
        "import sys\n"
        "from nhanes_bone.cli import app\n"
        f"sys.argv = ['nhanes-bone', *{args!r}]\n"
        "try:\n    app()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print(sorted(m for m in ('pandas', 'pydantic', 'scipy') if m in sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stdout.strip().splitlines()[-1] == "[]", run.stdout + run.stderr
    written = pd.read_csv(tmp_path / "o" / "bootstrap.csv")
    assert len(written) == 5 and list(written.columns[:4]) == ["boot", "m1", "m2", "m3"]
