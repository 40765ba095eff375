{#- eGFR in mL/min/1.73 m² by the race-free CKD-EPI 2021 creatinine equation (Inker et al.,
    NEJM 2021): 142 × min(Scr/κ, 1)^α × max(Scr/κ, 1)^-1.200 × 0.9938^age (× 1.012 if female),
    κ = 0.7 / 0.9 and α = -0.241 / -0.302 for women / men; Scr in mg/dL, age in years. -#}
{% macro ckd_epi_2021(creatinine, age, is_female) -%}
    case
        when {{ creatinine }} is null or {{ creatinine }} <= 0 or {{ age }} is null or {{ is_female }} is null then null
        else 142
            * pow(least({{ creatinine }} / case when {{ is_female }} then 0.7 else 0.9 end, 1.0),
                  case when {{ is_female }} then -0.241 else -0.302 end)
            * pow(greatest({{ creatinine }} / case when {{ is_female }} then 0.7 else 0.9 end, 1.0), -1.200)
            * pow(0.9938, {{ age }})
            * case when {{ is_female }} then 1.012 else 1.0 end
    end
{%- endmacro %}
