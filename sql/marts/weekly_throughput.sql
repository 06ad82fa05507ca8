-- grain: one row per project per week (Monday, UTC) from the week of the project's first
-- issue to the week of as_of
-- Issues finished in the week (see issue_cycle_time), zero in weeks without any.

with issues as (

    select project_key, created_at from {{ ref('stg_jira__issues') }}

),

finished as (

    select * from {{ ref('issue_cycle_time') }}

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

weekly_finished as (

    select
        project_key,
        finished_week_start_date as week_start_date,
        count(*) as count_finished_issues,
        sum(story_points) as finished_story_points
    from finished
    group by project_key, finished_week_start_date

),

final as (

    select
        project_weeks.project_key,
        project_weeks.week_start_date,
        coalesce(weekly_finished.count_finished_issues, 0) as count_finished_issues,
        coalesce(weekly_finished.finished_story_points, 0) as finished_story_points
    from project_weeks
    left join weekly_finished
        on weekly_finished.project_key = project_weeks.project_key
        and weekly_finished.week_start_date = project_weeks.week_start_date

)

select * from final
