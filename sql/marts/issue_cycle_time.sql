-- grain: one row per finished issue (in a cycle end status now)
-- lead time: creation to finish. cycle time: first entry into a start status to finish,
-- NULL when the issue never passed through a start status.

with flow_dates as (

    select * from {{ ref('int_jira__issue_flow_dates') }}
    where is_finished

),

durations as (

    select
        flow_dates.*,
        {{ seconds_between(created_at, finished_at) }} as lead_time_seconds,
        {{ seconds_between(started_at, finished_at) }} as cycle_time_seconds
    from flow_dates

),

final as (

    select
        issue_id,
        issue_key,
        project_key,
        issue_type,
        assignee_account_id,
        story_points,
        status,
        created_at,
        started_at,
        finished_at,
        cast(date_trunc('week', finished_at at time zone 'UTC') as date) as finished_week_start_date,
        lead_time_seconds,
        cycle_time_seconds,
        lead_time_seconds / 86400.0 as lead_time_days,
        cycle_time_seconds / 86400.0 as cycle_time_days
    from durations

)

select * from final
