-- Blood metals, both cycles. Values below the detection limit are already filled with
-- LOD/sqrt(2) by NCHS; the comment codes say which (1 = below LOD).
-- WTSH2YR exists only in 2013-2014 (a one-half subsample); 2017-2020 has no subsample weight.
with h as (
    select SEQN, '2013-2014' as cycle, WTSH2YR,
           LBXBPB, LBDBPBLC, LBXBCD, LBDBCDLC, LBXTHG, LBDTHGLC, LBXBSE, LBDBSELC, LBXBMN, LBDBMNLC
    from {{ source('nhanes', 'pbcd_h') }}
),

p as (
    select SEQN, '2017-2020' as cycle, cast(null as double) as WTSH2YR,
           LBXBPB, LBDBPBLC, LBXBCD, LBDBCDLC, LBXTHG, LBDTHGLC, LBXBSE, LBDBSELC, LBXBMN, LBDBMNLC
    from {{ source('nhanes', 'p_pbcd') }}
)

select
    cast(SEQN as integer) as participant_id,
    cycle,
    WTSH2YR as metals_subsample_weight,
    LBXBPB as blood_lead_ug_dl,
    LBXBCD as blood_cadmium_ug_l,
    LBXTHG as blood_mercury_ug_l,
    LBXBSE as blood_selenium_ug_l,
    LBXBMN as blood_manganese_ug_l,
    LBDBPBLC = 1 as lead_below_lod,
    LBDBCDLC = 1 as cadmium_below_lod,
    LBDTHGLC = 1 as mercury_below_lod,
    LBDBSELC = 1 as selenium_below_lod,
    LBDBMNLC = 1 as manganese_below_lod
from (select * from h union all select * from p)
