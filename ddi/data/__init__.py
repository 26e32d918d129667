"""Raw files -> validated tables: loaders for the benchmark layout and DrugBank XML exports, and splits."""

from ddi.data.location import resolve_cache_dir, resolve_data_dir
from ddi.data.tables import DropReport, Tables

__all__ = ["DropReport", "Tables", "resolve_cache_dir", "resolve_data_dir"]
