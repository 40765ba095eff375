-- Serum creatinine from the standard biochemistry profile (BIOPRO_H, P_BIOPRO; ages 12+).
-- The two cycles measured it differently: 2013-2014 by the Jaffe rate method (Beckman
-- UniCel DxC800), 2017-2020 enzymatically (Roche Cobas 6000); both are IDMS-traceable, so
-- NCHS publishes no recalibration for them and eGFR is computed from the values as given.
select
    cast(SEQN as integer) as participant_id,
    cycle,
    LBXSCR as serum_creatinine_mg_dl,
    creatinine_method
from (
    select SEQN, LBXSCR, '2013-2014' as cycle, 'jaffe' as creatinine_method
    from {{ source('nhanes', 'biopro_h') }}
    union all
    select SEQN, LBXSCR, '2017-2020' as cycle, 'enzymatic' as creatinine_method
    from {{ source('nhanes', 'p_biopro') }}
)
