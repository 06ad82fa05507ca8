-- grain: one row per issue per day (UTC) from its creation date to the as_of date
-- The value each tracked field had at the end of that day. Tracked fields and their columns
-- come from the settings. Before its first change a field has the value that change
-- replaced. A field the changelog never mentions has the issue's current value.
-- Changelog items carry the field's name at the time of the change. An item counts when its
-- name is tracked, or when an item with a tracked name has the same field id, so changes made
-- after a custom field was renamed still count.

with issues as (

    select * from {{ ref('issue_enhanced') }}

),

changelog as (

    select * from {{ ref('stg_jira__changelog') }}

),

tracked_fields as (

    select *
    from (
        values
        {{ tracked_field_rows }}
    ) as tracked_fields (column_name, field_name, is_value_id)

),

tracked_columns as (

    select distinct column_name, is_value_id
    from tracked_fields

),

tracked_field_ids as (

    select distinct tracked_fields.column_name, changelog.field_id
    from changelog
    inner join tracked_fields
        on tracked_fields.field_name = lower(changelog.field_name)
    where changelog.field_id is not null

),

tracked_items as (

    select
        changelog.issue_id,
        changelog.history_id,
        changelog.item_position,
        tracked_fields.column_name
    from changelog
    inner join tracked_fields
        on tracked_fields.field_name = lower(changelog.field_name)
    union
    select
        changelog.issue_id,
        changelog.history_id,
        changelog.item_position,
        tracked_field_ids.column_name
    from changelog
    inner join tracked_field_ids
        on tracked_field_ids.field_id = changelog.field_id

),

tracked_changes as (

    select
        changelog.issue_id,
        tracked_columns.column_name,
        changelog.changed_at,
        cast(changelog.changed_at at time zone 'UTC' as date) as change_date,
        case when tracked_columns.is_value_id then changelog.from_value
            else changelog.from_string end as old_value,
        case when tracked_columns.is_value_id then changelog.to_value
            else changelog.to_string end as new_value,
        row_number() over (
            partition by changelog.issue_id, tracked_columns.column_name
            order by changelog.changed_at, changelog.history_id, changelog.item_position
        ) as change_number,
        row_number() over (
            partition by changelog.issue_id, tracked_columns.column_name,
                cast(changelog.changed_at at time zone 'UTC' as date)
            order by changelog.changed_at desc, changelog.history_id desc,
                changelog.item_position desc
        ) as reverse_number_in_day
    from changelog
    inner join tracked_items
        on tracked_items.issue_id = changelog.issue_id
        and tracked_items.history_id = changelog.history_id
        and tracked_items.item_position = changelog.item_position
    inner join tracked_columns
        on tracked_columns.column_name = tracked_items.column_name

),

issue_fields as (

    select
        issues.issue_id,
        issues.issue_key,
        cast(issues.created_at at time zone 'UTC' as date) as created_date,
        tracked_fields.column_name,
        {{ current_field_value }} as current_value
    from issues
    cross join (select distinct column_name from tracked_fields) as tracked_fields

),

starting_values as (

    select
        issue_fields.issue_id,
        issue_fields.column_name,
        issue_fields.created_date as valid_from_date,
        0 as priority,
        case
            when first_changes.issue_id is null then issue_fields.current_value
            else first_changes.old_value
        end as field_value
    from issue_fields
    left join tracked_changes as first_changes
        on first_changes.issue_id = issue_fields.issue_id
        and first_changes.column_name = issue_fields.column_name
        and first_changes.change_number = 1

),

end_of_day_values as (

    select
        issue_id,
        column_name,
        change_date as valid_from_date,
        1 as priority,
        new_value as field_value
    from tracked_changes
    where reverse_number_in_day = 1

),

all_values as (

    select * from starting_values
    union all
    select * from end_of_day_values

),

ranked_values as (

    select
        all_values.*,
        row_number() over (
            partition by issue_id, column_name, valid_from_date
            order by priority desc
        ) as value_rank
    from all_values

),

field_intervals as (

    select
        issue_id,
        column_name,
        field_value,
        valid_from_date,
        lead(valid_from_date) over (
            partition by issue_id, column_name
            order by valid_from_date
        ) as valid_until_date
    from ranked_values
    where value_rank = 1

),

issue_day_bounds as (

    select
        issue_id,
        issue_key,
        cast(cast(created_at at time zone 'UTC' as date) as timestamp) as first_day,
        cast(cast({{ as_of }} at time zone 'UTC' as date) as timestamp) as last_day
    from issues

),

issue_days as (

    select
        issue_id,
        issue_key,
        cast({{ series(first_day, last_day, interval '1 day') }} as date) as date_day
    from issue_day_bounds

),

final as (

    select
        issue_days.date_day,
        issue_days.issue_id,
        issue_days.issue_key,
        {{ tracked_field_columns }}
    from issue_days
    inner join field_intervals
        on field_intervals.issue_id = issue_days.issue_id
        and field_intervals.valid_from_date <= issue_days.date_day
        and (
            field_intervals.valid_until_date is null
            or field_intervals.valid_until_date > issue_days.date_day
        )
    group by issue_days.date_day, issue_days.issue_id, issue_days.issue_key

)

select * from final
