"""The studies: Peng et al. 2025 (peng2025/) and the IMOS design on NHANES (imos2025), fitted
from the marts with the methods below them; the papers' published values are in papers/."""
