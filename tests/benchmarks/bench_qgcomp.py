"""qgcomp's bootstrap: B = 200 on n = 905 with 5 exposures and 8 covariates (binomial, the MSM
on the OR scale), in-process and as the `nhanes-bone qgcomp` command (start-up included).

Prints figures as ratios against the anchor; asserts nothing. The anchor is the recorded
number of issue 17: R qgcomp's `qgcomp.glm.boot` took 11.4 s for this on this kind of machine
(R is not runnable here, so it is the recorded figure, not one measured in this run).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from results import save

from analysis.methods.frames import quantile_scores
from analysis.methods.qgcomp import qgcomp

R_SECONDS = 11.4  # recorded: R qgcomp.glm.boot, B = 200, n = 905, 5 exposures, 8 covariates


def data() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 905
    mix = pd.DataFrame(rng.lognormal(size=(n, 5)), columns=["pb", "cd", "hg", "se", "mn"])
    covs = pd.DataFrame(rng.normal(size=(n, 8)), columns=[f"c{i}" for i in range(8)])
    scores, _ = quantile_scores(mix, 4)
    eta = (
        -1.5
        + 0.3 * scores @ np.array([0.1, 0.6, 0.0, -0.3, 0.0])
        + covs.to_numpy() @ np.linspace(-0.2, 0.2, 8)
    )
    return pd.concat([mix, covs], axis=1).assign(y=(rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int))


def main() -> None:
    figures: dict = {"anchor": f"R qgcomp.glm.boot recorded, {R_SECONDS} s (B = 200, n = 905)"}
    frame = data()
    mixture, covariates = ["pb", "cd", "hg", "se", "mn"], [f"c{i}" for i in range(8)]
    for jobs in (1, os.cpu_count() or 1):
        start = time.perf_counter()
        qgcomp(frame, "y", mixture, covariates, family="binomial", bootstrap=200, seed=1, jobs=jobs)
        elapsed = time.perf_counter() - start
        figures[f"in_process_{jobs}_jobs_s"] = elapsed
        figures[f"in_process_{jobs}_jobs_vs_r_recorded"] = R_SECONDS / elapsed
        print(
            f"qgcomp boot B=200 n=905, {jobs} process(es), in-process: {elapsed:6.3f} s = "
            f"{R_SECONDS / elapsed:5.1f}x faster than R's recorded {R_SECONDS} s"
        )
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "d.csv"
        frame.to_csv(csv, index=False)
        cli = str(Path(sys.executable).with_name("nhanes-bone"))
        command = [cli, "qgcomp", "--data", str(csv), "--outcome", "y", "--mixture", ",".join(mixture)]
        command += ["--covariates", ",".join(covariates), "--family", "binomial", "--bootstrap", "200"]
        command += ["--seed", "1", "--out", str(Path(tmp) / "out")]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        elapsed = time.perf_counter() - start
        print(
            f"nhanes-bone qgcomp --bootstrap 200 (process start-up and imports included): {elapsed:6.3f} s = "
            f"{R_SECONDS / elapsed:5.1f}x faster than R's recorded {R_SECONDS} s"
        )
    figures["cli_s"] = elapsed
    figures["cli_vs_r_recorded"] = R_SECONDS / elapsed
    save("qgcomp", figures)


if __name__ == "__main__":
    main()
