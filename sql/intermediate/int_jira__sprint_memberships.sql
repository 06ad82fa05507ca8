-- grain: one row per issue per sprint per continuous stay in that sprint
-- Built from the Sprint changelog items, whose values list sprint ids ("38, 40"): a sprint
-- in the new list and not the old one was added, and the reverse was removed. An issue whose
-- first event for a sprint is a removal, or which is in a sprint with no event at all, has
-- been in it since its creation. left_at is NULL while the issue is still in the sprint.

with issues as (

    select issue_id, created_at from {{ ref('stg_jira__issues') }}

),

current_sprints as (

    select issue_id, sprint_id from {{ ref('stg_jira__issue_sprints') }}

),

sprint_changes as (

    select issue_id, history_id, item_position, changed_at, from_value, to_value
    from {{ ref('stg_jira__changelog') }}
    where lower(field_name) = 'sprint'

),

previous_sprint_texts as (

    select
        issue_id,
        history_id,
        item_position,
        changed_at,
        unnest({{ split_list(from_value) }}) as sprint_text
    from sprint_changes
    where from_value is not null

),

new_sprint_texts as (

    select
        issue_id,
        history_id,
        item_position,
        changed_at,
        unnest({{ split_list(to_value) }}) as sprint_text
    from sprint_changes
    where to_value is not null

),

previous_sprints as (

    select issue_id, history_id, item_position, changed_at, cast(trim(sprint_text) as bigint) as sprint_id
    from previous_sprint_texts
    where trim(sprint_text) <> ''

),

new_sprints as (

    select issue_id, history_id, item_position, changed_at, cast(trim(sprint_text) as bigint) as sprint_id
    from new_sprint_texts
    where trim(sprint_text) <> ''

),

membership_events as (

    select new_sprints.*, 'added' as event_type
    from new_sprints
    where not exists (
        select 1
        from previous_sprints
        where previous_sprints.issue_id = new_sprints.issue_id
            and previous_sprints.history_id = new_sprints.history_id
            and previous_sprints.item_position = new_sprints.item_position
            and previous_sprints.sprint_id = new_sprints.sprint_id
    )

    union all

    select previous_sprints.*, 'removed' as event_type
    from previous_sprints
    where not exists (
        select 1
        from new_sprints
        where new_sprints.issue_id = previous_sprints.issue_id
            and new_sprints.history_id = previous_sprints.history_id
            and new_sprints.item_position = previous_sprints.item_position
            and new_sprints.sprint_id = previous_sprints.sprint_id
    )

),

ordered_events as (

    select
        membership_events.*,
        row_number() over (
            partition by issue_id, sprint_id
            order by changed_at, history_id, item_position
        ) as event_number,
        lead(changed_at) over (
            partition by issue_id, sprint_id
            order by changed_at, history_id, item_position
        ) as next_event_at
    from membership_events

),

stays_from_creation as (

    select ordered_events.issue_id, ordered_events.sprint_id, issues.created_at as joined_at,
        ordered_events.changed_at as left_at
    from ordered_events
    inner join issues
        on issues.issue_id = ordered_events.issue_id
    where ordered_events.event_number = 1
        and ordered_events.event_type = 'removed'

    union all

    select current_sprints.issue_id, current_sprints.sprint_id, issues.created_at as joined_at,
        cast(null as timestamptz) as left_at
    from current_sprints
    inner join issues
        on issues.issue_id = current_sprints.issue_id
    where not exists (
        select 1
        from membership_events
        where membership_events.issue_id = current_sprints.issue_id
            and membership_events.sprint_id = current_sprints.sprint_id
    )

),

stays_from_additions as (

    select issue_id, sprint_id, changed_at as joined_at, next_event_at as left_at
    from ordered_events
    where event_type = 'added'

),

final as (

    select * from stays_from_creation
    union all
    select * from stays_from_additions

)

select * from final
