"""Methods on any CSV: svyglm, wqs, qgcomp, bkmr."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from nhanes_bone.cli.common import (
    METHODS_PANEL,
    CovariatesOpt,
    CsvOpt,
    Direction,
    Family,
    MixtureOpt,
    OutcomeOpt,
    QuantilesOpt,
    Signal,
    SplitRule,
    Summaries,
    app,
    clear_errors,
    comma_list,
    console,
    err,
    read_csv_columns_option,
    read_csv_option,
)
from nhanes_bone.core.errors import InputError


@app.command(rich_help_panel=METHODS_PANEL)
def svyglm(
    data: Annotated[
        Path,
        typer.Option(
            exists=True, dir_okay=False, help="CSV file with the variables, weights, strata and PSUs."
        ),
    ],
    formula: Annotated[str, typer.Option(help='R-style formula, e.g. "y ~ a + b + C(c)".')],
    out: Annotated[Path, typer.Option(help="Where to write the JSON result.")],
    family: Annotated[
        Family, typer.Option(help="binomial (quasibinomial under a design) or gaussian.")
    ] = Family.gaussian,
    weights: Annotated[str | None, typer.Option(help="Sampling-weight column.")] = None,
    strata: Annotated[str | None, typer.Option(help="Stratum column.")] = None,
    psu: Annotated[str | None, typer.Option(help="PSU column (nested within strata).")] = None,
) -> None:
    """Design-based GLM as R's survey::svyglm (Taylor linearisation); the plain GLM without a design."""

    from analysis.methods.survey import svyglm as fit_svyglm
    from analysis.methods.survey import write_result

    with clear_errors():
        frame = read_csv_option(data)
        result = fit_svyglm(formula, frame, family.value, weights, strata, psu)
    write_result(result, out, formula, {"weights": weights, "strata": strata, "psu": psu})
    table = result.table()
    console.print(table.to_string(index=False, float_format=lambda v: f"{v:.6g}"))
    console.print(f"residual df {result.df_residual:g}; written to {out}")
    for problem in result.problems():
        err.print(f"[yellow]warning:[/] {escape(problem)}", highlight=False, soft_wrap=True)


@app.command(rich_help_panel=METHODS_PANEL)
def wqs(
    data: CsvOpt,
    outcome: OutcomeOpt,
    mixture: MixtureOpt,
    out: Annotated[
        Path, typer.Option(help="Folder for weights.csv, bootstrap.csv, final_model.csv, summary.json.")
    ],
    id_column: Annotated[
        str | None, typer.Option(help="Row identifier, needed with --split/--bootstrap.")
    ] = None,
    covariates: CovariatesOpt = "",
    q: QuantilesOpt = 4,
    validation: Annotated[float, typer.Option(help="Share of rows held out for the final model.")] = 0.6,
    b: Annotated[int, typer.Option(help="Number of bootstrap fits.")] = 100,
    direction: Annotated[
        Direction, typer.Option(help="The sign the mixture effect is fitted in.")
    ] = Direction.positive,
    signal: Annotated[
        Signal, typer.Option(help="Averaging weight: t2 (gWQS 3.x default) | abst | one | t3 | expt.")
    ] = Signal.t2,
    b_constrained: Annotated[
        bool,
        typer.Option("--b-constrained/--no-b-constrained", help="Constrain the mixture coefficient's sign."),
    ] = False,
    family: Annotated[Family, typer.Option(help="binomial | gaussian.")] = Family.binomial,
    seed: Annotated[int | None, typer.Option(help="Random seed for the split and the bootstraps.")] = None,
    split: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="CSV id,validation (TRUE/FALSE): replay a split."),
    ] = None,
    bootstrap: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="CSV boot,draw,id: replay bootstrap samples."),
    ] = None,
    jobs: Annotated[int | None, typer.Option(help="Worker processes (default: all cores).")] = None,
    split_rule: Annotated[
        SplitRule,
        typer.Option(
            help="How the validation rows are drawn without --split: bernoulli (each row with "
            "probability --validation, gWQS 3.x) | fixed (exactly that share, gWQS 1.x/2.x)."
        ),
    ] = SplitRule.bernoulli,
    weights: Annotated[
        str | None,
        typer.Option(help="Weight column (gWQS's weights: prior weights of every fit, e.g. survey weights)."),
    ] = None,
    rh: Annotated[
        int,
        typer.Option(
            help="Repeated holdout (gWQS's rh; Tanner et al. 2019): repeat the fit on this many random "
            "splits and report the mean estimate with its 2.5-97.5 percentile interval (1: one split)."
        ),
    ] = 1,
) -> None:
    """Weighted quantile sum regression on any CSV (gWQS 3.x's algorithm; replayable)."""

    from analysis.methods.wqs import fit_wqs, replay_rows

    with clear_errors():
        # a plain run needs no pandas (its import costs more than the rest of the start-up);
        # replaying rows and the repeated holdout work on a DataFrame
        replays = split is not None or bootstrap is not None
        frame = read_csv_option(data) if replays or rh > 1 else read_csv_columns_option(data)
        options = {
            "family": family.value,
            "q": q,
            "validation": validation,
            "b": b,
            "direction": direction.value,
            "signal": signal.value,
            "b_constrained": b_constrained,
            "split": split_rule.value,
            "weights": _weight_column(frame, weights),
        }
        if rh > 1:
            if split is not None or bootstrap is not None:
                raise InputError("--rh draws its own splits: it cannot replay --split or --bootstrap")
            _wqs_repeated_holdout(
                frame,
                out,
                rh=rh,
                outcome=outcome,
                mixture=comma_list(mixture),
                covariates=comma_list(covariates),
                seed=seed,
                n_jobs=jobs,
                weights_name=weights,
                **options,
            )
            return
        validation_rows = bootstrap_rows = None
        if replays:
            if id_column is None or id_column not in frame.columns:
                raise InputError("--split and --bootstrap need --id-column naming a column of the data")
            validation_rows, bootstrap_rows = replay_rows(
                frame[id_column],
                read_csv_option(split) if split is not None else None,
                read_csv_option(bootstrap) if bootstrap is not None else None,
                names=(str(split), str(bootstrap)),
            )
        result = fit_wqs(
            frame,
            outcome,
            comma_list(mixture),
            comma_list(covariates),
            seed=seed,
            validation_rows=validation_rows,
            bootstrap_rows=bootstrap_rows,
            n_jobs=jobs,
            **options,
        )
    from analysis.methods.wqs import write_result as write_wqs

    write_wqs(
        result,
        out,
        direction=direction.value,
        family=family.value,
        q=q,
        signal=signal.value,
        b_constrained=b_constrained,
        split="given" if split is not None else split_rule.value,
        weights=weights,
    )
    effect = result.effect
    width = max(map(len, result.components))
    console.print(
        "\n".join(
            f"{name:<{width}}    {weight:.4f}"
            for name, weight in zip(result.components, result.weight_values, strict=True)
        ),
        highlight=False,
    )
    console.print(
        f"wqs: estimate {effect['estimate']:.4f} (SE {effect['std_error']:.4f}), "
        f"p = {effect['p_value']:.3g}; written to {out}"
    )
    for problem in result.warnings:
        err.print(f"[yellow]warning (final model):[/] {escape(problem)}", highlight=False, soft_wrap=True)


def _wqs_repeated_holdout(
    frame,
    out: Path,
    *,
    rh: int,
    outcome: str,
    mixture: list[str],
    covariates: list[str],
    seed: int | None,
    n_jobs: int | None,
    weights_name: str | None,
    **options,
) -> None:
    from analysis.methods.wqs import repeated_holdout, write_repeated_holdout

    result = repeated_holdout(frame, outcome, mixture, covariates, rh=rh, seed=seed, n_jobs=n_jobs, **options)
    settings = {k: v for k, v in options.items() if k != "weights"}
    write_repeated_holdout(result, out, rh=rh, seed=seed, survey_weights=weights_name, **settings)
    effect = result.mixture_effect
    console.print(result.weights.round(4).to_string(index=False))
    console.print(
        f"wqs, repeated holdout ({effect['repeats_completed']} of {rh} repeats): estimate "
        f"{effect['estimate']:.4f} ({effect['ci_low']:.4f} to {effect['ci_high']:.4f}); written to {out}"
    )


@app.command(rich_help_panel=METHODS_PANEL)
def qgcomp(
    data: CsvOpt,
    outcome: OutcomeOpt,
    mixture: MixtureOpt,
    out: Annotated[Path, typer.Option(help="Folder for summary.json, weights.csv (and bootstrap.csv).")],
    covariates: CovariatesOpt = "",
    q: QuantilesOpt = 4,
    family: Annotated[Family, typer.Option(help="binomial | gaussian.")] = Family.gaussian,
    bootstrap: Annotated[
        int,
        typer.Option(
            help="B > 0: qgcomp.glm.boot's marginal structural model with B bootstrap resamples; "
            "0: qgcomp.glm.noboot."
        ),
    ] = 0,
    seed: Annotated[int | None, typer.Option(help="Seed of the bootstrap resamples.")] = None,
    rr: Annotated[
        bool, typer.Option("--rr/--or", help="Binary outcome, bootstrap: the MSM on the RR or the OR scale.")
    ] = False,
    weights: Annotated[
        str | None, typer.Option(help="Weight column (prior weights of the GLMs, e.g. survey weights).")
    ] = None,
    jobs: Annotated[
        int | None, typer.Option(help="Worker processes for the resamples (default: all cores when it pays).")
    ] = None,
) -> None:
    """Quantile g-computation on any CSV (R qgcomp's qgcomp.glm.noboot and qgcomp.glm.boot)."""
    from analysis.methods.qgcomp import qgcomp as fit_qgcomp
    from analysis.methods.qgcomp import write_result as write_qgcomp

    with clear_errors():
        frame = read_csv_option(data)
        result = fit_qgcomp(
            frame,
            outcome,
            comma_list(mixture),
            comma_list(covariates),
            family=family.value,
            q=q,
            weights=_weight_column(frame, weights),
            bootstrap=bootstrap,
            seed=seed,
            rr=rr,
            jobs=jobs,
        )
    write_qgcomp(result, out)
    console.print(result.weights.round(4).to_string(index=False))
    ratio = result.ratio
    scale = (
        f"; {'RR' if rr else 'OR'} {ratio['estimate']:.4f} ({ratio['ci_low']:.4f}, {ratio['ci_high']:.4f})"
        if ratio
        else ""
    )
    console.print(
        f"psi {result.psi:.4f} (SE {result.se:.4f}, 95% CI {result.ci[0]:.4f} to {result.ci[1]:.4f}), "
        f"p = {result.p_value:.3g}{scale} [{result.method}, {result.scale}, n = {result.n}]; written to {out}",
        highlight=False,
    )
    for problem in result.warnings:
        err.print(f"[yellow]warning:[/] {escape(problem)}", highlight=False, soft_wrap=True)


def _weight_column(table, column: str | None):
    """The --weights column of a DataFrame or of ``Columns``, as floats."""
    import numpy as np

    if column is None:
        return None
    if column not in table:
        raise InputError(f"--weights {column!r} is not a column of the data")
    return np.asarray(table[column], dtype=float)


@app.command(rich_help_panel=METHODS_PANEL)
def bkmr(
    data: CsvOpt,
    outcome: Annotated[str, typer.Option(help="Outcome column (0/1 for binomial).")],
    exposures: Annotated[str, typer.Option(help="Exposure columns for h(), comma-separated.")],
    out: Annotated[
        Path,
        typer.Option(
            help="Folder for pips.csv, overall_risk.csv, univariate.csv, singvar.csv, beta.csv, diagnostics.json, trace.png, draws.csv.gz."
        ),
    ],
    covariates: Annotated[
        str,
        typer.Option(
            help="Covariates entering linearly, comma-separated (no intercept: h carries it, as in bkmr)."
        ),
    ] = "",
    family: Annotated[str, typer.Option(help="binomial (probit) | gaussian.")] = "gaussian",
    iter: Annotated[
        int, typer.Option("--iter", help="Iterations per chain (the first half is burn-in).")
    ] = 10000,
    varsel: Annotated[
        bool, typer.Option("--varsel/--no-varsel", help="Component-wise variable selection (PIPs).")
    ] = True,
    chains: Annotated[int, typer.Option(help="Chains, run in parallel processes.")] = 2,
    seed: Annotated[int, typer.Option(help="Seed; chain c uses the stream [seed, c].")] = 1,
    est_h: Annotated[
        bool,
        typer.Option(
            "--est-h/--no-est-h",
            help="Draw y* given a sampled h (bkmr's est.h = TRUE) instead of jointly with h integrated out.",
        ),
    ] = False,
    log: Annotated[bool, typer.Option("--log/--no-log", help="Take ln of the exposures first.")] = False,
    standardize: Annotated[
        bool, typer.Option("--standardize/--no-standardize", help="z-score the exposures (after --log).")
    ] = False,
    method: Annotated[
        Summaries, typer.Option(help="Summaries: approx (bkmr's default) | exact (over thinned draws).")
    ] = Summaries.approx,
    thin: Annotated[int, typer.Option(help="Keep every thin-th post-burn-in draw for --method exact.")] = 10,
    jobs: Annotated[
        int | None, typer.Option(help="Worker processes (default: one per chain, up to the cores).")
    ] = None,
    scale_covariates: Annotated[
        bool,
        typer.Option(
            "--scale-covariates/--covariates-as-given",
            help="Centre and scale continuous covariates (default; β per SD, recorded) or fit them as given (bkmr).",
        ),
    ] = True,
    bkmr_compat: Annotated[
        bool,
        typer.Option(
            "--bkmr-compat",
            help="Run bkmr 0.2.2's exact chain: its sign of the switch move's Hastings term (see README), "
            "its fixed jump sizes and covariates as given.",
        ),
    ] = False,
    adapt: Annotated[
        bool,
        typer.Option(
            "--adapt/--no-adapt",
            help="Tune the λ and r jump sizes during burn-in, then freeze them (default; recorded in "
            "diagnostics.json) or keep bkmr's lambda.jump 10 and r.jump 0.1 throughout.",
        ),
    ] = True,
    interweave: Annotated[
        bool,
        typer.Option(
            "--interweave/--no-interweave",
            help="With --est-h, move λ a second time each iteration with h scaled along (default; "
            "λ's ESS 99-141 against 19-134 over five seeds of a probit benchmark) or once, as bkmr "
            "(--bkmr-compat: off).",
        ),
    ] = True,
) -> None:
    """Bayesian kernel machine regression on any CSV (R bkmr 0.2.2's model and priors; its sampler
    with the switch move's Hastings ratio corrected unless --bkmr-compat)."""
    from analysis.methods.bkmr import BkmrSettings, fit_bkmr, write_fit

    with clear_errors():
        settings = BkmrSettings(
            family=family,
            iterations=iter,
            varsel=varsel,
            est_h=est_h,
            thin=thin,
            bkmr_compat=bkmr_compat,
            adapt=adapt and not bkmr_compat,
            interweave=interweave and not bkmr_compat,
        )
        frame = read_csv_option(data)
        fit = fit_bkmr(
            frame,
            outcome,
            comma_list(exposures),
            comma_list(covariates),
            settings,
            chains=chains,
            seed=seed,
            log=log,
            standardize=standardize,
            workers=jobs,
            scale_covariates=scale_covariates and not bkmr_compat,
        )
        diagnostics = write_fit(fit, out, method.value)
    rates = ", ".join(f"{c['iterations_per_second']}" for c in diagnostics["per_chain"])
    console.print(fit.pips().round(3).to_string(index=False))
    console.print(
        f"{len(fit.chains)} chain(s) x {iter} iterations; iterations/s per chain: {rates}; written to {out}"
    )
    for w in diagnostics["warnings"]:
        err.print(f"[yellow]warning:[/] {escape(w)}", highlight=False, soft_wrap=True)
