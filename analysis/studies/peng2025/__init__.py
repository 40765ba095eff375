"""Peng et al. 2025: the study's data from the marts, Tables 1-4, Figure 2 (WQS), Figure 3
(BKMR), the reproduction search and the scorecard against the paper."""
