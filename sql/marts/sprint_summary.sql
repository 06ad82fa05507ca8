-- grain: one row per sprint that has started
-- Counted per issue, from sprint membership over time:
--   committed:    in the sprint when it started
--   added:        joined the sprint after it started and before it closed
--   removed:      committed or added, but no longer in the sprint when it closed
--   completed:    in the sprint when it closed, in a cycle end status at that moment
--   carried over: in the sprint when it closed, not finished
-- A sprint closes at completed_at, and a closed sprint without it at its planned end. An
-- active sprint is measured at as_of, so its "carried over" issues are the ones still open.

with sprints as (

    select * from {{ ref('stg_jira__sprints') }}
    where started_at is not null

),

memberships as (

    select * from {{ ref('int_jira__sprint_memberships') }}

),

transitions as (

    select * from {{ ref('issue_status_transitions') }}

),

sprint_windows as (

    select
        sprint_id,
        sprint_name,
        sprint_state,
        board_id,
        started_at,
        coalesce(
            completed_at,
            case when sprint_state = 'closed' then planned_end_at end,
            {{ as_of }}
        ) as closed_at
    from sprints

),

issue_sprint_flags as (

    select
        memberships.issue_id,
        sprint_windows.sprint_id,
        sprint_windows.closed_at,
        max(case
            when memberships.joined_at <= sprint_windows.started_at
                and (memberships.left_at is null or memberships.left_at > sprint_windows.started_at)
                then 1 else 0
        end) as is_committed,
        max(case
            when memberships.joined_at > sprint_windows.started_at
                and memberships.joined_at <= sprint_windows.closed_at
                then 1 else 0
        end) as is_added,
        max(case
            when memberships.joined_at <= sprint_windows.closed_at
                and (memberships.left_at is null or memberships.left_at > sprint_windows.closed_at)
                then 1 else 0
        end) as is_in_sprint_at_close
    from memberships
    inner join sprint_windows
        on sprint_windows.sprint_id = memberships.sprint_id
    group by memberships.issue_id, sprint_windows.sprint_id, sprint_windows.closed_at

),

issue_outcomes as (

    select
        issue_sprint_flags.*,
        case when exists (
            select 1
            from transitions
            where transitions.issue_id = issue_sprint_flags.issue_id
                and transitions.is_cycle_end_status
                and transitions.started_at <= issue_sprint_flags.closed_at
                and (transitions.ended_at is null
                    or transitions.ended_at > issue_sprint_flags.closed_at)
        ) then 1 else 0 end as is_finished_at_close
    from issue_sprint_flags

),

sprint_counts as (

    select
        sprint_id,
        sum(is_committed) as count_committed_issues,
        sum(is_added) as count_added_issues,
        sum(case when (is_committed = 1 or is_added = 1) and is_in_sprint_at_close = 0
            then 1 else 0 end) as count_removed_issues,
        sum(case when is_in_sprint_at_close = 1 and is_finished_at_close = 1
            then 1 else 0 end) as count_completed_issues,
        sum(case when is_in_sprint_at_close = 1 and is_finished_at_close = 0
            then 1 else 0 end) as count_carried_over_issues
    from issue_outcomes
    group by sprint_id

),

final as (

    select
        sprint_windows.sprint_id,
        sprint_windows.sprint_name,
        sprint_windows.sprint_state,
        sprint_windows.board_id,
        sprint_windows.started_at,
        sprint_windows.closed_at,
        coalesce(sprint_counts.count_committed_issues, 0) as count_committed_issues,
        coalesce(sprint_counts.count_added_issues, 0) as count_added_issues,
        coalesce(sprint_counts.count_removed_issues, 0) as count_removed_issues,
        coalesce(sprint_counts.count_completed_issues, 0) as count_completed_issues,
        coalesce(sprint_counts.count_carried_over_issues, 0) as count_carried_over_issues
    from sprint_windows
    left join sprint_counts
        on sprint_counts.sprint_id = sprint_windows.sprint_id

)

select * from final
