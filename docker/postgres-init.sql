-- A separate database for the bridge's ledger (connection threepl_ledger), next to Airflow's metadata.
CREATE DATABASE threepl_ledger;
