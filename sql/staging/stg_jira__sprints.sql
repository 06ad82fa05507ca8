-- grain: one row per sprint

with sprints as (

    select * from {{ source('sprints') }} as sprints

),

final as (

    select
        id as sprint_id,
        name as sprint_name,
        lower(state) as sprint_state,
        board_id,
        goal as sprint_goal,
        start_at as started_at,
        end_at as planned_end_at,
        completed_at
    from sprints

)

select * from final
