-- grain: one row per comment on an issue not deleted

with comments as (

    select * from {{ source('issue_comments') }} as comments

),

issues as (

    select issue_id from {{ ref('stg_jira__issues') }}

),

final as (

    select
        comments.id as comment_id,
        comments.issue_id,
        comments.author_account_id,
        comments.created_at
    from comments
    inner join issues
        on issues.issue_id = comments.issue_id

)

select * from final
