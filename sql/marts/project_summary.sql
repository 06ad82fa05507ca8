-- grain: one row per project
-- Counts of issues by state now, and lead and cycle time statistics of finished issues.

with issues as (

    select * from {{ ref('stg_jira__issues') }}

),

flow_dates as (

    select * from {{ ref('int_jira__issue_flow_dates') }}

),

cycle_times as (

    select * from {{ ref('issue_cycle_time') }}

),

issue_counts as (

    select
        issues.project_id,
        issues.project_key,
        min(issues.project_name) as project_name,
        count(*) as count_issues,
        sum(case when issues.resolved_at is null then 1 else 0 end) as count_unresolved_issues,
        sum(case when flow_dates.is_finished then 1 else 0 end) as count_finished_issues,
        sum(case when flow_dates.started_at is not null and not flow_dates.is_finished
            then 1 else 0 end) as count_in_progress_issues,
        min(issues.created_at) as first_created_at,
        max(issues.updated_at) as last_updated_at
    from issues
    inner join flow_dates
        on flow_dates.issue_id = issues.issue_id
    group by issues.project_id, issues.project_key

),

time_statistics as (

    select
        project_key,
        avg(lead_time_days) as avg_lead_time_days,
        percentile_cont(0.5) within group (order by cycle_time_days) as median_cycle_time_days,
        percentile_cont(0.85) within group (order by cycle_time_days) as p85_cycle_time_days
    from cycle_times
    group by project_key

),

final as (

    select
        issue_counts.*,
        time_statistics.avg_lead_time_days,
        time_statistics.median_cycle_time_days,
        time_statistics.p85_cycle_time_days
    from issue_counts
    left join time_statistics
        on time_statistics.project_key = issue_counts.project_key

)

select * from final
