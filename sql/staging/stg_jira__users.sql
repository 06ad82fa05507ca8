-- grain: one row per account id

with users as (

    select * from {{ source('users') }} as users

),

final as (

    select
        account_id,
        display_name,
        is_active
    from users

)

select * from final
