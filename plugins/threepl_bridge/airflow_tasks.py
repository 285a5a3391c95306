"""TaskFlow tasks shared by several DAGs. Each task resolves the partner by code at run time and calls one
function of the package; heavy imports stay inside the task bodies."""

from __future__ import annotations

from airflow.sdk import XComArg, get_current_context, task


def intake_tasks(code: str, kind: str) -> XComArg:
    """list complete files -> receive each (mapped, one task per file). Returns the mapped receive results:
    one dict per file with its exchange id and state."""

    @task(task_id="list_files")
    def list_files() -> list[str]:
        from threepl_bridge import runtime
        from threepl_bridge.flows.intake import list_complete_files

        p = runtime.partner(code)
        return list_complete_files(p, kind, runtime.transport(p))

    @task(task_id="receive_file", map_index_template="{{ file_name }}")
    def receive_file(name: str, run_id: str | None = None) -> dict[str, object]:
        from threepl_bridge import runtime
        from threepl_bridge.flows.intake import receive_file as receive

        get_current_context()["file_name"] = name  # type: ignore[typeddict-unknown-key]
        p = runtime.partner(code)
        return receive(p, kind, name, transport=runtime.transport(p), ledger=runtime.ledger(), run_id=run_id).as_dict()

    return receive_file.expand(name=list_files())
