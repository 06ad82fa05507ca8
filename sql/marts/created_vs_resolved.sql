-- grain: one row per project per week (Monday, UTC) from the week of the project's first
-- issue to the week of as_of
-- Resolved means Jira's resolution date (resolved_at), as in Jira's own report. Counts at
-- week end include every earlier week.

with issues as (

    select project_key, created_at, resolved_at from {{ ref('stg_jira__issues') }}

),

project_bounds as (

    select
        project_key,
        cast(date_trunc('week', min(created_at) at time zone 'UTC') as timestamp) as first_week,
        cast(date_trunc('week', {{ as_of }} at time zone 'UTC') as timestamp) as last_week
    from issues
    group by project_key

),

project_weeks as (

    select
        project_key,
        cast({{ series(first_week, last_week, interval '7 days') }} as date) as week_start_date
    from project_bounds

),

weekly_created as (

    select
        project_key,
        cast(date_trunc('week', created_at at time zone 'UTC') as date) as week_start_date,
        count(*) as count_created_issues
    from issues
    group by 1, 2

),

weekly_resolved as (

    select
        project_key,
        cast(date_trunc('week', resolved_at at time zone 'UTC') as date) as week_start_date,
        count(*) as count_resolved_issues
    from issues
    where resolved_at is not null
    group by 1, 2

),

weekly_counts as (

    select
        project_weeks.project_key,
        project_weeks.week_start_date,
        coalesce(weekly_created.count_created_issues, 0) as count_created_issues,
        coalesce(weekly_resolved.count_resolved_issues, 0) as count_resolved_issues
    from project_weeks
    left join weekly_created
        on weekly_created.project_key = project_weeks.project_key
        and weekly_created.week_start_date = project_weeks.week_start_date
    left join weekly_resolved
        on weekly_resolved.project_key = project_weeks.project_key
        and weekly_resolved.week_start_date = project_weeks.week_start_date

),

final as (

    select
        weekly_counts.*,
        sum(count_created_issues) over (
            partition by project_key order by week_start_date
        ) as cumulative_created_issues,
        sum(count_resolved_issues) over (
            partition by project_key order by week_start_date
        ) as cumulative_resolved_issues,
        sum(count_created_issues - count_resolved_issues) over (
            partition by project_key order by week_start_date
        ) as count_unresolved_issues
    from weekly_counts

)

select * from final
