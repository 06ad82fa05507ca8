"""Readers of complete collections and reference lists, one module per endpoint family.

changelog   full changelog histories per issue (Cloud bulk fetch, per-issue pages on both)
comments    every comment of an issue
worklogs    every worklog of an issue, and the site-wide worklog change feed
agile       boards and sprints from the agile API
reference   users, projects, statuses, priorities, issue types, resolutions, versions,
            components and the field catalog
"""
