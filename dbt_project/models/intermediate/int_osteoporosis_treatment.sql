-- Osteoporosis treatment, one row per participant who answered the prescription-medicine
-- interview: the bone medicines taken in the past 30 days (RXQ_RX, matched against
-- seeds/osteoporosis_medicines by Multum code or ingredient name) and the OSQ072 answer
-- ("doctor ever prescribed a medicine for osteoporosis"). `osteoporosis_treatment` is either;
-- the sensitivity analysis excludes those women (treatment raises BMD, so a treated woman's
-- T-score understates the osteoporosis she was treated for).
with rx as (select * from {{ ref('stg_nhanes__prescriptions') }}),
medicines as (select * from {{ ref('osteoporosis_medicines') }}),
osq as (
    select participant_id, prescribed_osteoporosis_medicine
    from {{ ref('stg_nhanes__osteoporosis_questionnaire') }}
),

-- matched once per distinct medicine, not per prescription line: the word match is a regular
-- expression per (name, ingredient) pair, and `contains` rules out most pairs before it runs
names as (select distinct drug_code, drug_name from rx),
matched as (
    select names.drug_code, names.drug_name, medicines.ingredient, medicines.drug_class
    from names
    inner join medicines
        on names.drug_code = medicines.multum_code
        or (
            contains(names.drug_name, medicines.ingredient)
            and regexp_matches(names.drug_name, '\b' || medicines.ingredient || '\b')
        )
),

per_participant as (
    select
        rx.participant_id,
        bool_or(matched.ingredient is not null) as on_bone_medicine,
        string_agg(distinct rx.drug_name, '; ' order by rx.drug_name)
            filter (where matched.ingredient is not null) as bone_medicines,
        string_agg(distinct matched.drug_class, '; ' order by matched.drug_class) as bone_medicine_classes
    from rx
    left join matched
        on rx.drug_code is not distinct from matched.drug_code
        and rx.drug_name is not distinct from matched.drug_name
    group by rx.participant_id
)

select
    coalesce(per_participant.participant_id, osq.participant_id) as participant_id,
    per_participant.on_bone_medicine,
    per_participant.bone_medicines,
    per_participant.bone_medicine_classes,
    osq.prescribed_osteoporosis_medicine,
    case
        when per_participant.on_bone_medicine or osq.prescribed_osteoporosis_medicine then true
        when per_participant.on_bone_medicine is not null
            or osq.prescribed_osteoporosis_medicine is not null then false
    end as osteoporosis_treatment
from per_participant
full outer join osq on per_participant.participant_id = osq.participant_id
