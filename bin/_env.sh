# Shared by bin/test and bin/demo: a local virtualenv and an Airflow home inside the checkout.
# Creates/refreshes .venv from requirements.lock when the lock changes; needs only Python 3.11+ and pip.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="$REPO/.venv"
LOCK="$REPO/requirements.lock"

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating virtualenv in $VENV" >&2
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.installed-$(cat "$LOCK" "$REPO/pyproject.toml" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "==> installing pinned dependencies (first run takes a minute or two)" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$LOCK" >&2
  # the package itself, editable and without dependencies: its provider entry point gives Airflow the `odoo`
  # connection type (the code is still read from plugins/)
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$REPO" >&2
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi

export AIRFLOW_HOME="${AIRFLOW_HOME:-$REPO/.airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$REPO/dags"
export AIRFLOW__CORE__PLUGINS_FOLDER="$REPO/plugins"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-4}"
# the connection form's Test button and `airflow connections test` (off by default in Airflow)
export AIRFLOW__CORE__TEST_CONNECTION="${AIRFLOW__CORE__TEST_CONNECTION:-Enabled}"
export PYTHONPATH="$REPO/plugins:$REPO${PYTHONPATH:+:$PYTHONPATH}"
export PATH="$VENV/bin:$PATH"
mkdir -p "$AIRFLOW_HOME"
