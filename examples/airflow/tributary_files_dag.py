"""Apache Airflow DAG: land the day's files with Tributary, then check the day landed.

`tributary run --once` ingests every new or changed file of the landing folder, commits, rebuilds
the gold models and exits. Its exit code says who has to act:
  0  done (or nothing new);
  3  an invalid configuration, or a file above its max-reject-ratio: fix it; retrying cannot help,
     so the task fails at once (AirflowFailException skips the remaining retries);
  4  an external problem (storage, the lake's lease held by another run): retried with backoff;
  1  a bug.
Runs of one pipeline never overlap in the lake (its lease), so retries are safe.
"""
import subprocess
from datetime import datetime, timedelta

from airflow import DAG
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator

TRIBUTARY = "/srv/tributary"
CONFIG = f"{TRIBUTARY}/pipeline.yaml"


def ingest():
    rc = subprocess.run(["./tributary", "run", "-c", CONFIG, "--once"], cwd=TRIBUTARY).returncode
    if rc == 3:
        raise AirflowFailException("tributary: invalid configuration or a rejected file (exit 3); see the task log")
    if rc != 0:
        raise AirflowException(f"tributary exited with {rc}")


with DAG(
    dag_id="tributary_retail_files",
    schedule="10 2 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 3, "retry_delay": timedelta(minutes=5), "retry_exponential_backoff": True},
    tags=["tributary", "lakehouse"],
) as dag:
    land = PythonOperator(task_id="ingest", python_callable=ingest)

    check = BashOperator(
        task_id="check_day_landed",
        bash_command=(
            f"cd {TRIBUTARY} && test \"$(./tributary sql -c {CONFIG} --format csv "
            "\"SELECT count(*) FROM silver.sales WHERE _source_date = DATE '{{ ds }}'\" | tail -1)\" != 0"
        ),
        retries=0,
    )

    land >> check
