"""Bayesian kernel machine regression (BKMR), after R's bkmr 0.2.2, exact and fast.

The public surface: ``fit_bkmr`` (a frame in, a ``Fit`` out), ``BkmrSettings``, ``Fit`` (PIPs,
overall risk, curves, contrasts, β, draws), ``BkmrError``, ``diagnose`` (ESS, split R̂,
acceptance, warnings), ``write_fit`` (the CSV/JSON files of a fit) and ``bkmr_traces`` (the
trace figure). Inside: ``model`` (settings, priors, proposals), ``fast`` (compiled loops),
``sampler`` (one chain), ``chains`` (seeded chains in parallel from dispersed starts),
``summaries``, ``diagnostics``, ``outputs``, ``plots``; the plain-numpy reference versions the
tests compare them with are in tests/bkmr_reference.py.
"""

from analysis.methods.bkmr.chains import run_chains
from analysis.methods.bkmr.diagnostics import diagnose
from analysis.methods.bkmr.frame import fit_bkmr
from analysis.methods.bkmr.model import BkmrSettings
from analysis.methods.bkmr.outputs import write_fit
from analysis.methods.bkmr.plots import bkmr_traces
from analysis.methods.bkmr.sampler import BkmrError, run_chain
from analysis.methods.bkmr.summaries import Fit

__all__ = [
    "BkmrError",
    "BkmrSettings",
    "Fit",
    "bkmr_traces",
    "diagnose",
    "fit_bkmr",
    "run_chain",
    "run_chains",
    "write_fit",
]
