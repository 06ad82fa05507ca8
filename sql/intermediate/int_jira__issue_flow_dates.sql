-- grain: one row per issue
-- When the work started and finished, by the configured cycle start and end statuses.
-- started_at: first entry into a start status. finished_at: for an issue in an end status
-- now, the moment it left its last status that is not an end status (its creation when it
-- never had one). Both are NULL when they did not happen.

with issues as (

    select
        issue_id,
        issue_key,
        project_key,
        issue_type,
        assignee_account_id,
        story_points,
        created_at
    from {{ ref('stg_jira__issues') }}

),

transitions as (

    select * from {{ ref('issue_status_transitions') }}

),

current_statuses as (

    select
        issue_id,
        status,
        status_category,
        started_at as current_status_started_at,
        is_cycle_end_status as is_finished
    from transitions
    where is_current

),

flow_bounds as (

    select
        issue_id,
        min(case when is_cycle_start_status then started_at end) as first_started_at,
        max(case when not is_cycle_end_status then ended_at end) as last_unfinished_ended_at
    from transitions
    group by issue_id

),

final as (

    select
        issues.issue_id,
        issues.issue_key,
        issues.project_key,
        issues.issue_type,
        issues.assignee_account_id,
        issues.story_points,
        issues.created_at,
        current_statuses.status,
        current_statuses.status_category,
        current_statuses.current_status_started_at,
        coalesce(current_statuses.is_finished, false) as is_finished,
        flow_bounds.first_started_at as started_at,
        case
            when current_statuses.is_finished
                then coalesce(flow_bounds.last_unfinished_ended_at, issues.created_at)
        end as finished_at
    from issues
    left join current_statuses
        on current_statuses.issue_id = issues.issue_id
    left join flow_bounds
        on flow_bounds.issue_id = issues.issue_id

)

select * from final
