"""Copy a load file into DuckDB with its path passed as a query parameter.

dlt 1.31's DuckDB copy job writes the file's path into its INSERT statement as a string
literal without escaping quotes. So a `'` anywhere in the absolute path of `--pipelines-dir`
made DuckDB reject the statement with a parser error. The copy jobs are those of the replaced
reference tables, and of the merged tables on the staging path. Each later run failed the same
way on the pending package. The job here runs the same statement with the path as a parameter.
"""

from __future__ import annotations

from typing import Any

# The parameter that carries the file's path into the copy statement.
PATH_PARAMETER = "jira_etl_copy_file"

_PATCHED = False
_CopyJob: Any = None


def copy_files_by_parameter() -> None:
    """Make dlt's DuckDB client copy each load file through `_copy_job_class()`."""
    global _PATCHED
    if _PATCHED:
        return
    from dlt.destinations.impl.duckdb.duck import DuckDbClient, DuckDbCopyJob

    previous_create_job = DuckDbClient.create_load_job

    def create_load_job(
        self: Any, table: Any, file_path: str, load_id: str, restore: bool = False
    ) -> Any:
        job = previous_create_job(self, table, file_path, load_id, restore)
        if type(job) is DuckDbCopyJob:
            return _copy_job_class()(file_path)
        return job

    DuckDbClient.create_load_job = create_load_job  # type: ignore[method-assign]
    _PATCHED = True


def _copy_job_class() -> Any:
    """Return the class of the copy job, built on first use."""
    global _CopyJob
    if _CopyJob is not None:
        return _CopyJob

    from dlt.common.storages.load_storage import ParsedLoadJobFileName
    from dlt.destinations.impl.duckdb.duck import DuckDbCopyJob

    class ParameterCopyJob(DuckDbCopyJob):  # type: ignore[misc]
        """Runs dlt's copy statement with the file's path as the parameter `PATH_PARAMETER`.

        NOTE: DuckDB still expands `*`, `?` and `[` in the path as a glob, as it does for
        dlt's literal.
        """

        def run(self) -> None:
            self._sql_client = self._job_client.sql_client
            table_name = self._sql_client.make_qualified_table_name(self.load_table_name)
            file_format = ParsedLoadJobFileName.parse(self._file_path).file_format
            if file_format == "parquet":
                source = f"read_parquet(${PATH_PARAMETER}, union_by_name = true)"
            elif file_format in ("jsonl", "typed-jsonl"):
                source = f"read_json(${PATH_PARAMETER})"
            else:
                raise ValueError(
                    f"DuckDB cannot copy `{self._file_path}`: expected a Parquet or JSONL file."
                )
            self._sql_client.execute_sql(
                f"INSERT INTO {table_name} BY NAME SELECT * FROM {source}",
                **{PATH_PARAMETER: self._file_path},
            )

    _CopyJob = ParameterCopyJob
    return ParameterCopyJob
