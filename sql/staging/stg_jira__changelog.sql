-- grain: one row per changelog item (issue, history, item position) of an issue not deleted
-- Empty strings, which Jira writes for "no value" in some fields (e.g. Sprint), become NULL.

with changelog as (

    select * from {{ source('issue_changelog') }} as changelog

),

issues as (

    select issue_id from {{ ref('stg_jira__issues') }}

),

final as (

    select
        changelog.issue_id,
        changelog.history_id,
        changelog.item_position,
        changelog.created_at as changed_at,
        changelog.author_account_id,
        changelog.field as field_name,
        changelog.field_id,
        changelog.field_type,
        nullif(changelog.from_value, '') as from_value,
        nullif(changelog.from_string, '') as from_string,
        nullif(changelog.to_value, '') as to_value,
        nullif(changelog.to_string, '') as to_string
    from changelog
    inner join issues
        on issues.issue_id = changelog.issue_id

)

select * from final
