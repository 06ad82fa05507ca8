-- grain: one row per issue per status interval, from entering a status until leaving it
-- Before its first status change an issue is in the status that change left. An issue whose
-- changelog has no status change has been in its current status since creation. The
-- interval still open ends at `as_of` for time_in_status_seconds.

with issues as (

    select issue_id, issue_key, project_key, status_id, status, created_at
    from {{ ref('stg_jira__issues') }}

),

status_changes as (

    select
        issue_id,
        changed_at,
        from_value,
        from_string,
        to_value,
        to_string,
        row_number() over (
            partition by issue_id
            order by changed_at, history_id, item_position
        ) as change_number
    from {{ ref('stg_jira__changelog') }}
    where lower(field_name) = 'status'

),

statuses as (

    select * from {{ ref('stg_jira__statuses') }}

),

initial_intervals as (

    select
        issues.issue_id,
        0 as change_number,
        case
            when first_changes.issue_id is null then issues.status_id
            else cast(first_changes.from_value as bigint)
        end as status_id,
        case
            when first_changes.issue_id is null then issues.status
            else first_changes.from_string
        end as status,
        issues.created_at as started_at
    from issues
    left join status_changes as first_changes
        on first_changes.issue_id = issues.issue_id
        and first_changes.change_number = 1

),

changed_intervals as (

    select
        issue_id,
        change_number,
        cast(to_value as bigint) as status_id,
        to_string as status,
        changed_at as started_at
    from status_changes

),

all_intervals as (

    select * from initial_intervals
    union all
    select * from changed_intervals

),

bounded_intervals as (

    select
        all_intervals.*,
        lead(started_at) over (
            partition by issue_id
            order by change_number
        ) as ended_at
    from all_intervals

),

categorized_intervals as (

    select
        bounded_intervals.issue_id,
        bounded_intervals.change_number + 1 as interval_number,
        bounded_intervals.status_id,
        bounded_intervals.status,
        statuses.status_category,
        bounded_intervals.started_at,
        bounded_intervals.ended_at
    from bounded_intervals
    left join statuses
        on statuses.status_id = bounded_intervals.status_id

),

flagged_intervals as (

    select
        categorized_intervals.*,
        coalesce(ended_at, {{ as_of }}) as measured_until,
        {{ is_cycle_start }} as is_cycle_start_status,
        {{ is_cycle_end }} as is_cycle_end_status
    from categorized_intervals

),

final as (

    select
        flagged_intervals.issue_id,
        issues.issue_key,
        issues.project_key,
        flagged_intervals.interval_number,
        flagged_intervals.status_id,
        flagged_intervals.status,
        flagged_intervals.status_category,
        flagged_intervals.started_at,
        flagged_intervals.ended_at,
        flagged_intervals.ended_at is null as is_current,
        {{ seconds_between(flagged_intervals.started_at, flagged_intervals.measured_until) }}
            as time_in_status_seconds,
        flagged_intervals.is_cycle_start_status,
        flagged_intervals.is_cycle_end_status
    from flagged_intervals
    inner join issues
        on issues.issue_id = flagged_intervals.issue_id

)

select * from final
