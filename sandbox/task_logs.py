"""Task logs for the demo's runs: `airflow dags test` runs each task in process and writes no log file, so the UI
(which reads task logs where Airflow's file task handler writes them) shows none. The demo splits the command's
output at its per-task markers and writes each task's part where that handler reads it: the configured
``[logging] base_log_folder`` and ``log_filename_template``, attempt 1."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

START = re.compile(r"\[DAG TEST\] running task <TaskInstance: (?P<dag>[^ .]+)\.(?P<task>[^ ]+) (?P<run>\S+)")
END = re.compile(r"\[DAG TEST\] end task task_id=(?P<task>\S+) map_index=(?P<index>-?\d+)")
BEGIN = re.compile(r"\[DAG TEST\] starting task_id=(?P<task>\S+) map_index=(?P<index>-?\d+)")


def keep_task_logs(output: str) -> list[Path]:
    """Write each task's lines of a `dags test` output as its attempt-1 log; the files written."""
    import jinja2
    from airflow.configuration import conf

    template = jinja2.Template(conf.get("logging", "log_filename_template"))
    base = Path(conf.get("logging", "base_log_folder"))
    written: list[Path] = []
    current: dict[str, object] | None = None
    lines: list[str] = []
    index = -1
    for line in output.splitlines():
        if (m := BEGIN.search(line)) is not None:
            index, lines, current = int(m["index"]), [line], None
            continue
        if (m := START.search(line)) is not None and current is None:
            current = {"dag_id": m["dag"], "task_id": m["task"], "run_id": m["run"], "map_index": index}
        lines.append(line)
        if END.search(line) is not None and current is not None:
            ti = SimpleNamespace(**current, try_number=1)
            path = base / template.render(ti=ti, try_number=1)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(lines) + "\n")
            written.append(path)
            current, lines = None, []
    return written
