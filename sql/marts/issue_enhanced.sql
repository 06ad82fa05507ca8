-- grain: one row per issue, deleted issues excluded
-- The issue as it is now, with names, its current sprint, versions, activity counts and
-- the dates of its first and last assignment and first resolution.
-- current sprint: the active sprint, else a future one, else the latest started.
-- first_assigned_at: the issue's creation when it was created with an assignee (its first
-- assignee change replaced a value, or it has an assignee and no change at all).

with issues as (

    select * from {{ ref('stg_jira__issues') }}

),

users as (

    select * from {{ ref('stg_jira__users') }}

),

changelog as (

    select * from {{ ref('stg_jira__changelog') }}

),

comments as (

    select * from {{ ref('stg_jira__comments') }}

),

issue_sprints as (

    select * from {{ ref('stg_jira__issue_sprints') }}

),

sprints as (

    select * from {{ ref('stg_jira__sprints') }}

),

versions as (

    select * from {{ ref('stg_jira__issue_versions') }}

),

comment_counts as (

    select issue_id, count(*) as count_comments
    from comments
    group by issue_id

),

sprint_change_counts as (

    select issue_id, count(*) as count_sprint_changes
    from changelog
    where lower(field_name) = 'sprint'
    group by issue_id

),

ranked_sprints as (

    select
        issue_sprints.issue_id,
        issue_sprints.sprint_id,
        issue_sprints.sprint_position,
        sprints.sprint_name,
        row_number() over (
            partition by issue_sprints.issue_id
            order by
                case sprints.sprint_state when 'active' then 0 when 'future' then 1 else 2 end,
                sprints.started_at desc nulls last,
                issue_sprints.sprint_position desc
        ) as sprint_rank
    from issue_sprints
    left join sprints
        on sprints.sprint_id = issue_sprints.sprint_id

),

current_sprints as (

    select issue_id, sprint_id as current_sprint_id, sprint_name as current_sprint_name
    from ranked_sprints
    where sprint_rank = 1

),

sprint_lists as (

    select
        issue_id,
        count(*) as count_sprints,
        string_agg(sprint_name, ', ' order by sprint_position, sprint_id) as sprint_names
    from ranked_sprints
    group by issue_id

),

version_lists as (

    select
        issue_id,
        string_agg(case when version_kind = 'fix' then version_name end, ', '
            order by version_name) as fix_versions,
        string_agg(case when version_kind = 'affected' then version_name end, ', '
            order by version_name) as affected_versions
    from versions
    group by issue_id

),

assignee_changes as (

    select
        issue_id,
        changed_at,
        from_value,
        to_value,
        row_number() over (
            partition by issue_id
            order by changed_at, history_id, item_position
        ) as change_number
    from changelog
    where lower(field_name) = 'assignee'

),

assignment_changes as (

    select
        issue_id,
        max(case when change_number = 1 and from_value is not null then 1 else 0 end)
            as was_assigned_at_creation,
        min(case when to_value is not null then changed_at end) as first_assigned_change_at,
        max(case when to_value is not null then changed_at end) as last_assigned_change_at
    from assignee_changes
    group by issue_id

),

resolution_changes as (

    select issue_id, min(changed_at) as first_resolved_change_at
    from changelog
    where lower(field_name) = 'resolution'
        and to_value is not null
    group by issue_id

),

assignment_dates as (

    select
        issues.issue_id,
        case
            when assignment_changes.issue_id is null and issues.assignee_account_id is not null
                then issues.created_at
            when assignment_changes.was_assigned_at_creation = 1 then issues.created_at
            else assignment_changes.first_assigned_change_at
        end as first_assigned_at,
        assignment_changes.last_assigned_change_at
    from issues
    left join assignment_changes
        on assignment_changes.issue_id = issues.issue_id

),

final as (

    select
        issues.issue_id,
        issues.issue_key,
        issues.project_id,
        issues.project_key,
        issues.project_name,
        issues.summary,
        issues.issue_type,
        issues.is_subtask,
        issues.parent_key,
        issues.status,
        issues.status_category,
        issues.priority,
        issues.resolution,
        issues.assignee_account_id,
        assignees.display_name as assignee_name,
        issues.reporter_account_id,
        reporters.display_name as reporter_name,
        current_sprints.current_sprint_id,
        current_sprints.current_sprint_name,
        sprint_lists.sprint_names,
        coalesce(sprint_lists.count_sprints, 0) as count_sprints,
        issues.story_points,
        version_lists.fix_versions,
        version_lists.affected_versions,
        coalesce(comment_counts.count_comments, 0) as count_comments,
        coalesce(sprint_change_counts.count_sprint_changes, 0) as count_sprint_changes,
        assignment_dates.first_assigned_at,
        coalesce(assignment_dates.last_assigned_change_at, assignment_dates.first_assigned_at)
            as last_assigned_at,
        coalesce(resolution_changes.first_resolved_change_at, issues.resolved_at)
            as first_resolved_at,
        issues.created_at,
        issues.updated_at,
        issues.resolved_at,
        issues.resolved_at is not null as is_resolved,
        {{ seconds_between(issues.created_at, coalesce(issues.resolved_at, current_clock.as_of)) }}
            as open_duration_seconds
    from issues
    cross join (select {{ as_of }} as as_of) as current_clock
    left join users as assignees
        on assignees.account_id = issues.assignee_account_id
    left join users as reporters
        on reporters.account_id = issues.reporter_account_id
    left join current_sprints
        on current_sprints.issue_id = issues.issue_id
    left join sprint_lists
        on sprint_lists.issue_id = issues.issue_id
    left join version_lists
        on version_lists.issue_id = issues.issue_id
    left join comment_counts
        on comment_counts.issue_id = issues.issue_id
    left join sprint_change_counts
        on sprint_change_counts.issue_id = issues.issue_id
    left join assignment_dates
        on assignment_dates.issue_id = issues.issue_id
    left join resolution_changes
        on resolution_changes.issue_id = issues.issue_id

)

select * from final
