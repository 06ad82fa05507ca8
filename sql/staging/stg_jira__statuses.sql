-- grain: one row per status id
-- The `statuses` catalog, completed with the statuses seen on issues when the catalog is
-- missing or lacks one. A status that no issue has now and the catalog lacks stays unknown.

with catalog_statuses as (

    select
        id as status_id,
        name as status_name,
        lower(status_category) as status_category
    from {{ source('statuses') }} as statuses

),

issue_statuses as (

    select
        status_id,
        min(status) as status_name,
        min(lower(status_category)) as status_category
    from {{ ref('stg_jira__issues') }}
    where status_id is not null
    group by status_id

),

statuses_missing_from_catalog as (

    select issue_statuses.*
    from issue_statuses
    where not exists (
        select 1
        from catalog_statuses
        where catalog_statuses.status_id = issue_statuses.status_id
    )

),

final as (

    select * from catalog_statuses
    union all
    select * from statuses_missing_from_catalog

)

select * from final
