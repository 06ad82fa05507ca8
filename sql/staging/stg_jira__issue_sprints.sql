-- grain: one row per issue per sprint it is in now, deleted issues excluded

with issue_sprints as (

    select * from {{ source('issue_sprints') }} as issue_sprints

),

issues as (

    select issue_id from {{ ref('stg_jira__issues') }}

),

final as (

    select
        issue_sprints.issue_id,
        issue_sprints.sprint_id,
        issue_sprints.position as sprint_position
    from issue_sprints
    inner join issues
        on issues.issue_id = issue_sprints.issue_id

)

select * from final
