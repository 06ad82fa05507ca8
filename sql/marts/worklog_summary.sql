-- grain: one row per worklog author per week (Monday, UTC) with at least one worklog
-- Weeks are those in which the work started (worklog started_at).

with worklogs as (

    select * from {{ ref('stg_jira__worklogs') }}

),

users as (

    select * from {{ ref('stg_jira__users') }}

),

weekly_work as (

    select
        author_account_id,
        cast(date_trunc('week', started_at at time zone 'UTC') as date) as week_start_date,
        count(*) as count_worklogs,
        count(distinct issue_id) as count_issues,
        sum(time_spent_seconds) as time_spent_seconds
    from worklogs
    group by 1, 2

),

final as (

    select
        weekly_work.author_account_id,
        users.display_name as author_name,
        weekly_work.week_start_date,
        weekly_work.count_worklogs,
        weekly_work.count_issues,
        weekly_work.time_spent_seconds,
        weekly_work.time_spent_seconds / 3600.0 as time_spent_hours
    from weekly_work
    left join users
        on users.account_id = weekly_work.author_account_id

)

select * from final
