"""Reference data of the emulated site: users, projects, workflow values, sprints and fields.

Ids and shapes follow a Jira Software Cloud site (statuses with categories, sub-task type with
hierarchy level -1, custom field ids in the 100xx range). The same catalog serves Data Center,
which renders it in the v2 shapes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class User:
    account_id: str
    name: str  # Data Center user name and key
    display_name: str
    email: str
    account_type: str = "atlassian"
    time_zone: str = "UTC"
    active: bool = True


@dataclass(frozen=True)
class Project:
    id: int
    key: str
    name: str
    board_id: int
    simplified: bool = False


@dataclass(frozen=True)
class Status:
    id: int
    name: str
    category: str  # new | indeterminate | done


@dataclass(frozen=True)
class Sprint:
    id: int
    board_id: int
    name: str
    state: str  # active | closed | future
    goal: str
    start: str | None
    end: str | None
    complete: str | None
    sequence: int


USERS: tuple[User, ...] = (
    User(
        "5b10a2844c20165700ede21g",
        "alice",
        "Alice Moreau",
        "alice@example.com",
        time_zone="Europe/Paris",
    ),
    User(
        "5b10ac8d82e05b22cc7d4ef5", "bob", "Bob Tanaka", "bob@example.com", time_zone="Asia/Tokyo"
    ),
    User(
        "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077",
        "carol",
        "Carol Diaz",
        "carol@example.com",
        time_zone="America/Los_Angeles",
    ),
    User(
        "60e5a86a471e61006a4ba0a1",
        "dmitri",
        "Dmitri Volkov",
        "dmitri@example.com",
        time_zone="Europe/Berlin",
    ),
    User(
        "712020:0e2f6b58-5c1d-4e0f-9a1d-3c4a5b6c7d8e",
        "emeka",
        "Emeka Obi",
        "emeka@example.com",
        time_zone="Africa/Lagos",
    ),
    User(
        "5d53f3cbc6b9320d9ea5bdc2",
        "fatima",
        "Fatima Khan",
        "fatima@example.com",
        time_zone="Asia/Kolkata",
        active=False,
    ),
    User("63a1c2d3e4f5a6b7c8d9e0f1", "gitlab-bot", "GitLab for Jira Cloud", "", account_type="app"),
)
ME = USERS[0]

PROJECTS: tuple[Project, ...] = (
    Project(10000, "ABC", "Alpha Billing Core", 1),
    Project(10001, "XYZ", "Xylophone Mobile", 2),
    Project(10002, "OPS", "Operations", 3, simplified=True),
)

# category key -> (id, display name, color)
STATUS_CATEGORIES: dict[str, tuple[int, str, str]] = {
    "new": (2, "To Do", "blue-gray"),
    "indeterminate": (4, "In Progress", "yellow"),
    "done": (3, "Done", "green"),
}
STATUSES: tuple[Status, ...] = (
    Status(10000, "To Do", "new"),
    Status(3, "In Progress", "indeterminate"),
    Status(10001, "In Review", "indeterminate"),
    Status(10002, "Done", "done"),
    Status(10003, "Won't Do", "done"),
)
PRIORITIES: tuple[tuple[int, str], ...] = (
    (1, "Highest"),
    (2, "High"),
    (3, "Medium"),
    (4, "Low"),
    (5, "Lowest"),
)
# id, name, subtask, hierarchy level, description
ISSUE_TYPES: tuple[tuple[int, str, bool, int, str], ...] = (
    (10000, "Epic", False, 1, "A big user story that needs to be broken down."),
    (10004, "Story", False, 0, "Stories track functionality or features expressed as user goals."),
    (10002, "Task", False, 0, "A task that needs to be done."),
    (10003, "Bug", False, 0, "A problem or error."),
    (10013, "Sub-task", True, -1, "A small piece of work that's part of a larger task."),
)
SUBTASK_TYPE = 4
RESOLUTIONS: tuple[tuple[int, str], ...] = (
    (10000, "Done"),
    (10001, "Won't Do"),
    (10002, "Duplicate"),
)

BOARDS: tuple[tuple[int, str, str, int], ...] = (
    (1, "ABC board", "scrum", 10000),
    (2, "XYZ board", "scrum", 10001),
    (3, "OPS board", "kanban", 10002),
)
SPRINTS: tuple[Sprint, ...] = (
    Sprint(
        1,
        1,
        "ABC Sprint 1",
        "closed",
        "Ship invoices, refunds, and exports",
        "2024-01-08T09:00:00.000Z",
        "2024-01-22T09:00:00.000Z",
        "2024-01-22T16:30:12.114Z",
        1,
    ),
    Sprint(
        2,
        1,
        "ABC Sprint 2",
        "closed",
        "",
        "2024-01-22T09:00:00.000Z",
        "2024-02-05T09:00:00.000Z",
        "2024-02-05T15:02:44.870Z",
        2,
    ),
    Sprint(
        3,
        1,
        "ABC Sprint 3",
        "active",
        "Stabilise billing, then tax rules",
        "2024-02-05T09:00:00.000Z",
        "2030-02-19T09:00:00.000Z",
        None,
        3,
    ),
    Sprint(4, 1, "ABC Sprint 4", "future", "", None, None, None, 4),
    Sprint(
        5,
        2,
        "XYZ Sprint 7",
        "closed",
        "Offline mode",
        "2024-01-15T08:00:00.000Z",
        "2024-01-29T08:00:00.000Z",
        "2024-01-29T10:11:00.000Z",
        7,
    ),
    Sprint(
        6,
        2,
        "XYZ Sprint 8",
        "active",
        "Push notifications, deep links",
        "2024-01-29T08:00:00.000Z",
        "2030-02-12T08:00:00.000Z",
        None,
        8,
    ),
    Sprint(7, 2, "XYZ Sprint 9", "future", "", None, None, None, 9),
)

# project index -> components (id, name) and versions (id, name, released, archived, date)
COMPONENTS: dict[int, tuple[tuple[int, str], ...]] = {
    0: ((10100, "API"), (10101, "Billing"), (10102, "Web UI")),
    1: ((10110, "iOS"), (10111, "Android")),
    2: ((10120, "Infrastructure"),),
}
VERSIONS: dict[int, tuple[tuple[int, str, bool, bool, str | None], ...]] = {
    0: (
        (10200, "1.0", True, False, "2024-01-15"),
        (10201, "1.1", True, False, "2024-02-20"),
        (10202, "2.0", False, False, None),
    ),
    1: ((10210, "3.4.0", True, True, "2023-12-01"), (10211, "3.5.0", False, False, "2030-03-01")),
    2: (),
}
LABELS: tuple[str, ...] = (
    "backend",
    "frontend",
    "customer",
    "tech-debt",
    "security",
    "perf",
    "release-blocker",
    "ux",
)
LINK_TYPES: tuple[tuple[int, str, str, str], ...] = (
    (10000, "Blocks", "is blocked by", "blocks"),
    (10001, "Cloners", "is cloned by", "clones"),
    (10003, "Relates", "relates to", "relates to"),
)

# Custom field ids, one per schema type the loader must handle.
CF_SPRINT = "customfield_10020"
CF_STORY_POINT_ESTIMATE = "customfield_10016"
CF_STORY_POINTS = "customfield_10026"
CF_RANK = "customfield_10019"
CF_START_DATE = "customfield_10015"
CF_SEVERITY = "customfield_10040"
CF_PLATFORMS = "customfield_10041"
CF_REGION = "customfield_10042"
CF_REVIEWER = "customfield_10043"
CF_WATCHERS = "customfield_10044"
CF_DEPLOYED_AT = "customfield_10045"
CF_ACCEPTANCE = "customfield_10046"
CF_TAGS = "customfield_10047"
CF_SPEC_LINK = "customfield_10048"
CF_TEAM_SELECT = "customfield_10049"
CF_TEAM_TEXT = "customfield_10050"

SELECT_OPTIONS: dict[str, tuple[tuple[int, str], ...]] = {
    CF_SEVERITY: ((10300, "S1 - Critical"), (10301, "S2 - Major"), (10302, "S3 - Minor")),
    CF_PLATFORMS: ((10310, "Linux"), (10311, "macOS"), (10312, "Windows"), (10313, "Web")),
    CF_TEAM_SELECT: ((10320, "Payments"), (10321, "Mobile"), (10322, "SRE")),
}
# cascading select: parent option -> child options
CASCADE_OPTIONS: tuple[tuple[tuple[int, str], tuple[tuple[int, str], ...]], ...] = (
    ((10330, "EMEA"), ((10331, "France"), (10332, "Germany, Austria, Switzerland"))),
    ((10340, "APAC"), ((10341, "Japan"), (10342, "India"))),
    ((10350, "AMER"), ()),
)

_PICKERS = "com.atlassian.jira.plugin.system.customfieldtypes"
_AGILE = "com.pyxis.greenhopper.jira"

# field id, name, schema type, items, custom type
CUSTOM_FIELDS: tuple[tuple[str, str, str, str | None, str], ...] = (
    (CF_SPRINT, "Sprint", "array", "json", f"{_AGILE}:gh-sprint"),
    (CF_STORY_POINT_ESTIMATE, "Story point estimate", "number", None, f"{_AGILE}:jsw-story-points"),
    (CF_STORY_POINTS, "Story Points", "number", None, f"{_PICKERS}:float"),
    (CF_RANK, "Rank", "any", None, f"{_AGILE}:gh-lexo-rank"),
    (CF_START_DATE, "Start date", "date", None, f"{_PICKERS}:datepicker"),
    (CF_SEVERITY, "Severity", "option", None, f"{_PICKERS}:select"),
    (CF_PLATFORMS, "Platforms", "array", "option", f"{_PICKERS}:multiselect"),
    (CF_REGION, "Region", "option-with-child", None, f"{_PICKERS}:cascadingselect"),
    (CF_REVIEWER, "Reviewer", "user", None, f"{_PICKERS}:userpicker"),
    (CF_WATCHERS, "Stakeholders", "array", "user", f"{_PICKERS}:multiuserpicker"),
    (CF_DEPLOYED_AT, "Deployed at", "datetime", None, f"{_PICKERS}:datetime"),
    (CF_ACCEPTANCE, "Acceptance criteria", "string", None, f"{_PICKERS}:textarea"),
    (CF_TAGS, "Tags", "array", "string", f"{_PICKERS}:labels"),
    (CF_SPEC_LINK, "Spec link", "string", None, f"{_PICKERS}:url"),
    (CF_TEAM_SELECT, "Team", "option", None, f"{_PICKERS}:select"),
    (CF_TEAM_TEXT, "Team", "string", None, f"{_PICKERS}:textfield"),
)

# field id, name, schema type, items, JQL clause names, navigable
SYSTEM_FIELDS: tuple[tuple[str, str, str | None, str | None, tuple[str, ...], bool], ...] = (
    ("summary", "Summary", "string", None, ("summary",), True),
    ("issuetype", "Issue Type", "issuetype", None, ("issuetype", "type"), True),
    ("parent", "Parent", None, None, ("parent",), True),
    ("project", "Project", "project", None, ("project",), True),
    ("status", "Status", "status", None, ("status",), True),
    (
        "statuscategorychangedate",
        "Status Category Changed",
        "datetime",
        None,
        ("statusCategoryChangedDate",),
        True,
    ),
    ("priority", "Priority", "priority", None, ("priority",), True),
    ("resolution", "Resolution", "resolution", None, ("resolution",), True),
    ("resolutiondate", "Resolved", "datetime", None, ("resolutiondate", "resolved"), True),
    ("assignee", "Assignee", "user", None, ("assignee",), True),
    ("reporter", "Reporter", "user", None, ("reporter",), True),
    ("creator", "Creator", "user", None, ("creator",), True),
    ("created", "Created", "datetime", None, ("created", "createdDate"), True),
    ("updated", "Updated", "datetime", None, ("updated", "updatedDate"), True),
    ("duedate", "Due date", "date", None, ("due", "duedate"), True),
    ("labels", "Labels", "array", "string", ("labels",), True),
    ("components", "Components", "array", "component", ("component",), True),
    ("fixVersions", "Fix versions", "array", "version", ("fixVersion",), True),
    ("versions", "Affects versions", "array", "version", ("affectedVersion",), True),
    ("issuelinks", "Linked Issues", "array", "issuelinks", ("issueLink",), True),
    ("subtasks", "Sub-tasks", "array", "issuelinks", ("subtasks",), True),
    ("description", "Description", "string", None, ("description",), True),
    ("environment", "Environment", "string", None, ("environment",), True),
    (
        "timeoriginalestimate",
        "Original estimate",
        "number",
        None,
        ("originalEstimate", "timeoriginalestimate"),
        True,
    ),
    (
        "timeestimate",
        "Remaining Estimate",
        "number",
        None,
        ("remainingEstimate", "timeestimate"),
        True,
    ),
    ("timespent", "Time Spent", "number", None, ("timespent",), True),
    ("comment", "Comment", "comments-page", None, ("comment",), False),
    ("worklog", "Log Work", "array", "worklog", ("worklogAuthor",), False),
    ("votes", "Votes", "votes", None, ("votes",), True),
    ("watches", "Watchers", "watches", None, ("watchers",), True),
    ("security", "Security Level", "securitylevel", None, ("level",), True),
)
