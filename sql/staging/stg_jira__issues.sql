-- grain: one row per issue, deleted issues excluded
-- Gives the loaded `issues` columns their analysis names and merges the story points columns.

with issues as (

    select * from {{ source('issues') }} as issues

),

final as (

    select
        id as issue_id,
        key as issue_key,
        project_id,
        project_key,
        project_name,
        summary,
        issue_type_id,
        issue_type,
        coalesce(is_subtask, false) as is_subtask,
        status_id,
        status,
        status_category,
        priority_id,
        priority,
        resolution_id,
        resolution,
        assignee_account_id,
        reporter_account_id,
        created_at,
        updated_at,
        resolved_at,
        due_date,
        parent_id,
        parent_key,
        time_original_estimate_seconds,
        time_estimate_seconds,
        time_spent_seconds,
        {{ story_points }} as story_points
    from issues
    where not coalesce(is_deleted, false)

)

select * from final
