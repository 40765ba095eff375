-- One row per participant of both cycles: demographics and the survey design.
-- Marital status is harmonised to the three 2017-2020 groups (DMDMARTZ):
-- DMDMARTL {1,6} -> 1 married/partner, {2,3,4} -> 2 widowed/divorced/separated, 5 -> 3 never.
with h as (
    select
        cast(SEQN as integer) as participant_id,
        '2013-2014' as cycle,
        RIDSTATR, RIAGENDR, RIDAGEYR, RIDRETH1, DMDEDUC2, RIDEXPRG, INDFMPIR,
        {{ harmonise_marital('DMDMARTL') }} as marital_code,
        {{ known_code('DMDMARTL', [1, 2, 3, 4, 5, 6]) }} as marital_code_as_published,
        WTINT2YR as interview_weight,
        WTMEC2YR as mec_weight,
        SDMVSTRA, SDMVPSU
    from {{ source('nhanes', 'demo_h') }}
),

p as (
    select
        cast(SEQN as integer) as participant_id,
        '2017-2020' as cycle,
        RIDSTATR, RIAGENDR, RIDAGEYR, RIDRETH1, DMDEDUC2, RIDEXPRG, INDFMPIR,
        {{ known_code('DMDMARTZ', [1, 2, 3]) }} as marital_code,
        {{ known_code('DMDMARTZ', [1, 2, 3]) }} as marital_code_as_published,
        WTINTPRP as interview_weight,
        WTMECPRP as mec_weight,
        SDMVSTRA, SDMVPSU
    from {{ source('nhanes', 'p_demo') }}
),

unioned as (
    select * from h
    union all
    select * from p
)

select
    participant_id,
    cycle,
    RIDSTATR = 2 as examined_in_mec,
    case RIAGENDR when 1 then 'male' when 2 then 'female' end as sex,
    cast(RIDAGEYR as integer) as age_years,
    cast(RIDRETH1 as integer) as race_ethnicity_code,
    case cast(RIDRETH1 as integer)
        when 1 then 'Mexican American'
        when 2 then 'Other Hispanic'
        when 3 then 'Non-Hispanic White'
        when 4 then 'Non-Hispanic Black'
        when 5 then 'Other race'
    end as race_ethnicity,
    {{ known_code('DMDEDUC2', [1, 2, 3, 4, 5]) }} as education_code,
    case {{ known_code('DMDEDUC2', [1, 2, 3, 4, 5]) }}
        when 1 then 'Less than 9th grade'
        when 2 then '9-11th grade'
        when 3 then 'High school'
        when 4 then 'Some college'
        when 5 then 'College graduate'
    end as education,
    marital_code,
    marital_code_as_published,
    case marital_code
        when 1 then 'Married or living with partner'
        when 2 then 'Widowed, divorced or separated'
        when 3 then 'Never married'
    end as marital_status,
    RIDEXPRG = 1 as pregnant_at_exam,
    INDFMPIR as income_poverty_ratio,
    interview_weight,
    mec_weight,
    cast(SDMVSTRA as integer) as masked_stratum,
    cast(SDMVPSU as integer) as masked_psu,
    cycle || ':' || cast(cast(SDMVSTRA as integer) as varchar) as design_stratum,
    cycle || ':' || cast(cast(SDMVSTRA as integer) as varchar) || ':'
        || cast(cast(SDMVPSU as integer) as varchar) as design_psu
from unioned
