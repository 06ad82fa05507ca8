-- grain: one row per worklog on an issue not deleted

with worklogs as (

    select * from {{ source('worklogs') }} as worklogs

),

issues as (

    select issue_id from {{ ref('stg_jira__issues') }}

),

final as (

    select
        worklogs.id as worklog_id,
        worklogs.issue_id,
        worklogs.author_account_id,
        worklogs.started_at,
        worklogs.time_spent_seconds
    from worklogs
    inner join issues
        on issues.issue_id = worklogs.issue_id

)

select * from final
