-- Reproductive health (women 12+): regular periods, why not, and age at the last period.
select
    cast(SEQN as integer) as participant_id,
    cycle,
    {{ yes_no('RHQ031') }} as regular_periods_past_12m,
    {{ known_code('RHD043', [1, 2, 3, 7, 8, 9]) }} as no_period_reason_code,
    case cast(RHD043 as integer)
        when 1 then 'pregnancy' when 2 then 'breast feeding' when 3 then 'hysterectomy'
        when 7 then 'menopause' when 8 then 'medical conditions/treatments' when 9 then 'other'
    end as no_period_reason,
    case when RHQ060 not in (777, 999) then cast(RHQ060 as integer) end as age_at_last_period
from (
    select SEQN, RHQ031, RHD043, RHQ060, '2013-2014' as cycle from {{ source('nhanes', 'rhq_h') }}
    union all
    select SEQN, RHQ031, RHD043, RHQ060, '2017-2020' as cycle from {{ source('nhanes', 'p_rhq') }}
)
