"""Bounds applied to uploaded files."""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = 10 * MB
    max_entries: int = 1000
    max_entry_bytes: int = 50 * MB
    max_total_bytes: int = 100 * MB
    max_ratio: float = 200.0
    max_rows: int = 100_000
    max_columns: int = 1000
    max_shared_strings: int = 500_000
