-- grain: one row per day (UTC) per project per status category with at least one issue
-- The number of issues in each status category at the end of the day, for a cumulative flow
-- diagram. Days run from the first issue's creation date to the as_of date; a status
-- missing from the status catalog counts as category 'unknown'.

with transitions as (

    select * from {{ ref('issue_status_transitions') }}

),

day_bounds as (

    select
        cast(cast(min(started_at) at time zone 'UTC' as date) as timestamp) as first_day,
        cast(cast({{ as_of }} at time zone 'UTC' as date) as timestamp) as last_day
    from transitions

),

days as (

    select cast({{ series(first_day, last_day, interval '1 day') }} as date) as date_day
    from day_bounds

),

dated_transitions as (

    select
        project_key,
        coalesce(status_category, 'unknown') as status_category,
        cast(started_at at time zone 'UTC' as date) as started_date,
        cast(ended_at at time zone 'UTC' as date) as ended_date
    from transitions

),

final as (

    select
        days.date_day,
        dated_transitions.project_key,
        dated_transitions.status_category,
        count(*) as count_issues
    from days
    inner join dated_transitions
        on dated_transitions.started_date <= days.date_day
        and (dated_transitions.ended_date is null or dated_transitions.ended_date > days.date_day)
    group by days.date_day, dated_transitions.project_key, dated_transitions.status_category

)

select * from final
