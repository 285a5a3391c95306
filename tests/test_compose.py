"""docker-compose.yaml is consistent (Docker is not available here, so it is checked as data)."""

from __future__ import annotations

import re

import yaml

from tests.conftest import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yaml").read_text())
SERVICES = COMPOSE["services"]
AIRFLOW = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker", "airflow-triggerer")


def env_file_keys() -> set[str]:
    keys = set()
    for line in (REPO / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            keys.add(line.split("=", 1)[0])
    return keys


def test_the_stack_has_every_service_it_promises():
    assert set(AIRFLOW) | {"airflow-init", "postgres", "redis", "odoo", "odoo-db", "sftp"} <= set(SERVICES)
    assert SERVICES["odoo"]["image"] == "odoo:${ODOO_VERSION:-17}"  # 17 unless .env picks 18 or 19


def test_airflow_services_run_celery_and_mount_the_project():
    for name in AIRFLOW:
        service = SERVICES[name]
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert "redis" in env["AIRFLOW__CELERY__BROKER_URL"]
        mounts = {v.split(":")[1] for v in service["volumes"]}
        assert {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/sftp_formats", "/opt/airflow/expectations"} <= mounts, name
        for conn in ("AIRFLOW_CONN_ODOO_DEFAULT", "AIRFLOW_CONN_DEMO3PL_SFTP", "AIRFLOW_CONN_THREEPL_LEDGER"):
            assert conn in env, (name, conn)


def test_every_bind_mount_and_build_file_exists():
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (REPO / source).exists(), f"{name}: {source} does not exist"
            else:
                assert source in COMPOSE["volumes"], f"{name}: named volume {source} is not declared"
        build = service.get("build")
        if build:
            assert (REPO / build["context"] / build["dockerfile"]).is_file()


def test_dependencies_exist_and_wait_on_health():
    for name, service in SERVICES.items():
        for dep, rule in (service.get("depends_on") or {}).items():
            assert dep in SERVICES, f"{name} depends on unknown {dep}"
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[dep], f"{name} waits for {dep} to be healthy but it has no healthcheck"
    for name in [*AIRFLOW, "postgres", "redis", "odoo", "odoo-db", "sftp"]:
        assert "healthcheck" in SERVICES[name], name


def test_secrets_come_from_the_env_file():
    text = (REPO / "docker-compose.yaml").read_text()
    used = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)(?::-[^}]*)?\}", text))  # $${X} is escaped
    assert used <= env_file_keys(), f"add to .env.example: {sorted(used - env_file_keys())}"
    assert ".env" in (REPO / ".gitignore").read_text().splitlines()
    assert "no_host_key_check\": false" in SERVICES["airflow-scheduler"]["environment"]["AIRFLOW_CONN_DEMO3PL_SFTP"]


def test_published_ports_do_not_clash():
    ports = [p.split(":")[0] for s in SERVICES.values() for p in s.get("ports", [])]
    assert len(ports) == len(set(ports))


def test_sftp_folders_match_the_demo_partner():
    from threepl_bridge.specs.loader import load_partner

    partner = load_partner(REPO / "sftp_formats" / "partners" / "demo3pl.yaml")
    folders = set(SERVICES["sftp"]["command"].split(":")[-1].split(","))
    wanted = {d.folder.strip("/") for d in partner.spec.documents.values()} | {partner.spec.sftp.archive_folder.strip("/"), partner.spec.sftp.error_folder.strip("/")}
    assert wanted <= folders


def test_the_image_registers_the_odoo_connection_type_and_enables_connection_tests():
    dockerfile = (REPO / "docker" / "airflow.Dockerfile").read_text()
    assert "pip install --no-cache-dir --no-deps -e /opt/odoo-3pl-bridge" in dockerfile and "COPY --chown=airflow:0 pyproject.toml" in dockerfile
    for name in AIRFLOW:
        assert SERVICES[name]["environment"]["AIRFLOW__CORE__TEST_CONNECTION"] == "Enabled", name


def test_the_init_service_creates_the_odoo_api_pool():
    script = "\n".join(SERVICES["airflow-init"]["command"])
    assert 'airflow pools set odoo_api "$${THREEPL_ODOO_POOL_SLOTS:-4}"' in script
