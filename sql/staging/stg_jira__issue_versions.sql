-- grain: one row per issue per version, as fix version or affected version
-- version_kind is 'fix' or 'affected'.

with fix_versions as (

    select * from {{ source('issue_fix_versions') }} as fix_versions

),

affected_versions as (

    select * from {{ source('issue_affected_versions') }} as affected_versions

),

issues as (

    select issue_id from {{ ref('stg_jira__issues') }}

),

all_versions as (

    select issue_id, version_id, version_name, 'fix' as version_kind
    from fix_versions
    union all
    select issue_id, version_id, version_name, 'affected' as version_kind
    from affected_versions

),

final as (

    select
        all_versions.issue_id,
        all_versions.version_id,
        all_versions.version_name,
        all_versions.version_kind
    from all_versions
    inner join issues
        on issues.issue_id = all_versions.issue_id

)

select * from final
