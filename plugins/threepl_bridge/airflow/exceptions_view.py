"""The exceptions view: a FastAPI app the Airflow API server mounts at ``/threepl`` (``ui_plugin.ThreePLPlugin``),
shown in the Airflow UI's navigation ("3PL exceptions") and on each DAG's page.

- ``GET /threepl/exceptions``: the page (filters partner, flow, code, age, document; counts; "nothing needs you");
- ``GET /threepl/api/exceptions``: the same as JSON (``python -m threepl_bridge exceptions list --json`` reads the
  ledger directly);
- ``POST /threepl/exceptions/{id}/resolve``: resolve by hand with a note, as the signed-in user;
- ``GET /threepl/reports/{partner}/[{name}]``: the finance reports the links point to.

Every endpoint is behind Airflow's own authentication (the UI's session cookie or a bearer token of the API):
an anonymous request gets 401. Resolving also needs the auth manager's permission to edit the DAG's runs, and a
form posted from another site is refused (Origin check; the session cookie is SameSite too).
The data comes from ``flows.attention.open_items``; this module only reads the request and writes HTML.
"""

from __future__ import annotations

import html
import logging
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse

from airflow.api_fastapi.core_api.security import GetUserDep, requires_authenticated

log = logging.getLogger(__name__)
PREFIX = "/threepl"
app = FastAPI(title="odoo-3pl-bridge", dependencies=[Depends(requires_authenticated())])

_ODOO_IDS: dict[str, tuple[float, dict[str, int]]] = {}  # picking names -> ids, per page of names, for 5 minutes


def _filters(request: Request) -> Any:
    from threepl_bridge.flows.attention import Filters

    from threepl_bridge.registry import of_dag_id

    q = request.query_params
    partner, flow = q.get("partner") or None, q.get("flow") or None
    found = of_dag_id(q.get("dag_id") or "")  # the DAG page's tab passes its DAG id
    if found and not partner and not flow:
        partner, flow = found[0], found[1].name
    try:
        age = float(q["older_than_hours"]) if q.get("older_than_hours") else None
    except ValueError:
        raise HTTPException(status_code=422, detail=f"older_than_hours must be a number of hours, not {q['older_than_hours']!r}") from None
    return Filters(partner=partner, flow=flow, code=q.get("code") or None, older_than_hours=age, document=q.get("document") or None)


def _view(filters: Any) -> dict[str, Any]:
    from threepl_bridge.airflow import resources
    from threepl_bridge.flows.attention import open_items

    return open_items(resources.ledger(), filters, datetime.now(timezone.utc))


@app.get("/api/exceptions")
def exceptions_json(request: Request) -> JSONResponse:
    return JSONResponse(_view(_filters(request)))


def _odoo_links(names: list[str]) -> tuple[str | None, dict[str, int]]:
    """Odoo's web address and the ids of the pickings named (one search_read, cached); none when Odoo cannot be
    asked (the page still shows)."""
    from threepl_bridge.airflow import resources

    try:
        client = resources.odoo()
        base = client.settings.url.rstrip("/")
    except Exception as exc:  # noqa: BLE001 - no Odoo connection: no links
        log.info("no Odoo links: %s", exc)
        return None, {}
    key = "\n".join(sorted(set(names)))
    cached = _ODOO_IDS.get(key)
    if cached and time.monotonic() - cached[0] < 300:
        return base, cached[1]
    ids: dict[str, int] = {}
    if names:
        try:
            found = client.execute("stock.picking", "search_read", [["name", "in", sorted(set(names))]], fields=["name"])
            ids = {p["name"]: p["id"] for p in found}
        except Exception as exc:  # noqa: BLE001
            log.warning("could not look up the pickings in Odoo: %s", exc)
            return base, {}
    _ODOO_IDS[key] = (time.monotonic(), ids)
    return base, ids


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _suggestion(s: dict[str, Any] | None) -> str:
    if not s:
        return '<span class="muted">none computed</span>'
    return f'<span class="sugg">{_e(s.get("kind") or "")}: <b>{_e(s.get("value"))}</b></span><br><span class="muted">{_e(s.get("reason"))} (never applied by itself)</span>'


def _links(item: dict[str, Any], odoo: str | None, ids: dict[str, int]) -> str:
    links = []
    run = item.get("run_id")
    dag = f"/dags/{item['dag_id']}" + (f"/runs/{run}" if run else "")
    links.append(f'<a target="_top" href="{_e(dag)}">{"DAG run" if run else "DAG"}</a>')
    picking = ids.get(str(item.get("document") or ""))
    if odoo and picking:
        links.append(f'<a target="_blank" rel="noopener" href="{_e(odoo)}/web#id={picking}&amp;model=stock.picking&amp;view_type=form">Odoo</a>')
    links.append(f'<a href="{PREFIX}/reports/{_e(item["partner"])}/">reports</a>')
    return " · ".join(links)


STYLE = """body{font-family:system-ui,sans-serif;margin:1rem 1.5rem;color:#1f2933}h1{font-size:1.3rem}
table{border-collapse:collapse;font-size:.85rem;width:100%}th,td{border:1px solid #cbd2d9;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f4f8}.error{color:#b00020;font-weight:600}.warning{color:#8a6d00;font-weight:600}.muted{color:#616e7c}
.counts span{display:inline-block;margin:.1rem .6rem .1rem 0}.nothing{font-size:1.2rem;color:#1e7e34;font-weight:600;margin:2rem 0}
form.filters{margin:.5rem 0 1rem}form.filters input,form.filters select{margin-right:.5rem}.sugg b{font-family:monospace}"""


def _select(name: str, values: dict[str, int], chosen: str | None) -> str:
    options = "".join(f'<option value="{_e(v)}"{" selected" if v == chosen else ""}>{_e(v)} ({n})</option>' for v, n in values.items())
    return f'<label>{name} <select name="{name}"><option value="">all</option>{options}</select></label>'


def _table(title: str, items: list[dict[str, Any]], odoo: str | None, ids: dict[str, int], *, rows: bool) -> str:
    if not items:
        return ""
    head = "<tr><th>code</th><th>partner · flow</th><th>document</th><th>file · row</th><th>what</th><th>what to do</th><th>suggested fix</th><th>age</th><th>links</th>" + ("" if rows else "<th>resolve</th>") + "</tr>"
    body = []
    for i in items:
        where = f"{_e(i.get('file_name') or '')}" + (f" row {i['row']}" if rows else "")
        resolve = "" if rows else (
            f'<td><form method="post" action="{PREFIX}/exceptions/{i["id"]}/resolve"><input name="note" required placeholder="what was done" size="16">'
            f'<button type="submit">resolve</button></form></td>')
        body.append(f'<tr data-id="{i["id"]}" data-code="{_e(i["code"])}"><td class="{_e(i["severity"])}">{_e(i["code"])}<br><span class="muted">{_e(i["title"])}</span></td>'
                    f'<td>{_e(i["partner"])} · {_e(i["flow"])}</td><td>{_e(i.get("document"))}</td><td>{where}</td><td>{_e(i["message"])}</td>'
                    f'<td>{_e(i["action"])}</td><td>{_suggestion(i.get("suggestion"))}</td><td>{i["age_hours"]:g} h</td><td>{_links(i, odoo, ids)}</td>{resolve}</tr>')
    return f"<h2>{_e(title)} ({len(items)})</h2><table>{head}{''.join(body)}</table>"


@app.get("/exceptions", response_class=HTMLResponse)
def exceptions_page(request: Request, user: GetUserDep) -> HTMLResponse:
    f = _filters(request)
    view = _view(f)
    items = view["records"] + view["rows"]
    odoo, ids = _odoo_links([str(i.get("document")) for i in items if i.get("document")])
    c = view["all_counts"]
    filters = (f'<form class="filters" method="get">{_select("partner", c["partner"], f.partner)}{_select("flow", c["flow"], f.flow)}'
               f'{_select("code", c["code"], f.code)}<label>older than <input name="older_than_hours" size="4" value="{_e(f.older_than_hours or "")}"> h </label>'
               f'<label>document <input name="document" size="14" value="{_e(f.document or "")}"></label><button type="submit">filter</button> '
               f'<a href="{PREFIX}/exceptions">clear</a></form>')
    if not view["total"]:
        main = '<p class="nothing" id="nothing">Nothing needs you: no open exception, no file row waiting.</p>'
    elif not view["shown"]:
        main = f'<p class="muted">None of the {view["total"]} open item(s) matches the filters.</p>'
    else:
        counts = "".join(f"<span>{_e(code)}: <b>{n}</b></span>" for code, n in view["counts"]["code"].items())
        main = (f'<p id="summary"><b>{view["shown"]}</b> open item(s), <b class="error">{view["blocking"]}</b> blocking, of {view["total"]}.</p>'
                f'<p class="counts">{counts}</p>'
                + _table("Record exceptions", view["records"], odoo, ids, rows=False)
                + _table("File rows not posted (a replay or a corrected file settles them)", view["rows"], odoo, ids, rows=True))
    note = request.query_params.get("resolved")
    done = f'<p class="muted" id="resolved">Exception {_e(note)} resolved.</p>' if note else ""
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>3PL exceptions</title><style>{STYLE}</style></head><body>"
            f"<h1>3PL exceptions</h1><p class='muted'>signed in as {_e(user.get_name())} · CLI: <code>python -m threepl_bridge exceptions list --json</code></p>"
            f"{done}{filters}{main}</body></html>")
    return HTMLResponse(page)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True  # not a browser form (curl with a bearer token)
    return urlsplit(origin).netloc == request.headers.get("host")


@app.post("/exceptions/{exception_id}/resolve")
def resolve(exception_id: int, request: Request, user: GetUserDep, note: str = Form("")) -> RedirectResponse:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    from threepl_bridge.airflow import resources
    from threepl_bridge.flows.attention import dag_id_of
    from threepl_bridge.ledger.errors import InvalidTransition

    if not _same_origin(request):
        raise HTTPException(status_code=403, detail="a form from another site cannot resolve exceptions")
    ledger = resources.ledger()
    [found] = ledger.find_exceptions(exception_id=exception_id) or [None]
    if found is None:
        raise HTTPException(status_code=404, detail=f"no exception {exception_id}")
    dag_id = dag_id_of(found.partner, found.code)
    if not get_auth_manager().is_authorized_dag(method="PUT", access_entity=DagAccessEntity.RUN, details=DagDetails(id=dag_id), user=user):
        raise HTTPException(status_code=403, detail=f"{user.get_name()} may not act on {dag_id}'s runs")
    try:
        ledger.resolve_by_hand(exception_id, note=note, by=user.get_name())
    except (InvalidTransition, ValueError) as exc:
        raise HTTPException(status_code=409 if isinstance(exc, InvalidTransition) else 422, detail=str(exc)) from None
    log.info("exception %s resolved by %s: %s", exception_id, user.get_name(), note)
    return RedirectResponse(f"{PREFIX}/exceptions?{urlencode({'resolved': exception_id})}", status_code=303)


def _report_folder(partner: str) -> Path:
    from threepl_bridge.reports import reports_dir

    if not partner.replace("_", "").replace("-", "").isalnum():
        raise HTTPException(status_code=404, detail="no such partner")
    return reports_dir() / partner


@app.get("/reports/{partner}/", response_class=HTMLResponse)
def reports_list(partner: str) -> HTMLResponse:
    folder = _report_folder(partner)

    def listing(where: Path, prefix: str) -> str:
        files = sorted((p for p in where.glob("*") if p.suffix in REPORT_SUFFIXES), key=lambda p: p.name, reverse=True) if where.is_dir() else []
        return "".join(f'<li><a href="{PREFIX}/reports/{_e(partner)}/{prefix}{_e(p.name)}">{_e(p.name)}</a></li>' for p in files)

    items, quality = listing(folder, ""), listing(folder / "quality", "quality/")
    return HTMLResponse(f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(partner)} reports</title><style>{STYLE}</style></head><body>"
                        f"<h1>Finance reports of {_e(partner)}</h1><ul>{items or '<li>none yet</li>'}</ul>"
                        f"<h2>Data quality, one page per file</h2><ul>{quality or '<li>none yet</li>'}</ul></body></html>")


REPORT_SUFFIXES = (".html", ".csv", ".xlsx")


def _report(folder: Path, name: str) -> FileResponse:
    path = folder / name
    if "/" in name or "\\" in name or name.startswith(".") or not path.is_file() or path.suffix not in REPORT_SUFFIXES:
        raise HTTPException(status_code=404, detail="no such report")
    return FileResponse(path)


@app.get("/reports/{partner}/{name}")
def report_file(partner: str, name: str) -> FileResponse:
    return _report(_report_folder(partner), name)


@app.get("/reports/{partner}/quality/{name}")
def quality_page(partner: str, name: str) -> FileResponse:
    return _report(_report_folder(partner) / "quality", name)
