"""What the registry asks of the libraries it imports, in one place."""

from __future__ import annotations

import warnings


def silence_pyspark_pandas_warning() -> None:
    """pyspark warns on import that it does not fully support pandas 3. The registry hands Spark Parquet
    and Arrow tables, never pandas frames; and Great Expectations imports pyspark whenever it is installed
    (the spark extra), so without this every night's stderr would carry the warning."""
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
