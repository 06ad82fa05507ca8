-- grain: one row per issue in progress now
-- In progress: the issue entered a cycle start status and is not in an end status now.
-- Ages are measured to as_of.

with flow_dates as (

    select * from {{ ref('int_jira__issue_flow_dates') }}
    where started_at is not null
        and not is_finished

),

issues as (

    select issue_id, summary, assignee_name from {{ ref('issue_enhanced') }}

),

measured as (

    select
        flow_dates.*,
        {{ as_of }} as measured_at
    from flow_dates

),

final as (

    select
        measured.issue_id,
        measured.issue_key,
        measured.project_key,
        measured.issue_type,
        issues.summary,
        measured.assignee_account_id,
        issues.assignee_name,
        measured.story_points,
        measured.status,
        measured.status_category,
        measured.started_at,
        measured.current_status_started_at,
        {{ seconds_between(measured.started_at, measured.measured_at) }} / 86400.0 as age_days,
        {{ seconds_between(measured.current_status_started_at, measured.measured_at) }} / 86400.0
            as days_in_current_status
    from measured
    inner join issues
        on issues.issue_id = measured.issue_id

)

select * from final
