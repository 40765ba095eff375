-- Prescription medicines taken in the past 30 days (RXQ_RX_H, P_RXQ_RX): one row per medicine,
-- several per participant; a participant who took none has one row with RXDUSE = 2 and no
-- drug. Drug names are upper-case generic names ("ALENDRONATE; CHOLECALCIFEROL" for a
-- combination), codes the Multum Lexicon's (d03849); 99999 and blanks are "unknown".
with rx as (
    select SEQN, RXDUSE, RXDDRUG, RXDDRGID, RXDDAYS, '2013-2014' as cycle, rowid as file_row
    from {{ source('nhanes', 'rxq_rx_h') }}
    union all
    select SEQN, RXDUSE, RXDDRUG, RXDDRGID, RXDDAYS, '2017-2020' as cycle, rowid as file_row
    from {{ source('nhanes', 'p_rxq_rx') }}
)

select
    cast(SEQN as integer) as participant_id,
    cycle,
    cast(row_number() over (partition by SEQN, cycle order by file_row) as integer) as medicine_line,
    {{ yes_no('RXDUSE') }} as took_prescription_medicine,
    nullif(nullif(trim(RXDDRUG), ''), '99999') as drug_name,
    nullif(trim(RXDDRGID), '') as drug_code,
    {{ not_special('RXDDAYS', (77777, 99999)) }} as days_taken
from rx
