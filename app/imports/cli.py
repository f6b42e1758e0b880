"""`shop import`: send a CSV to a running server with the merchant's API key, show the job's progress, then
every bad row. Only HTTP: what a merchant's own machine can run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

POLL_S = 0.5


def read_files(path: Path, images: list[Path]) -> tuple[tuple[str, bytes], list[tuple[str, bytes]]]:
    """The CSV and the pictures, as (name, bytes)."""
    return (path.name, path.read_bytes()), [(p.name, p.read_bytes()) for p in images]


async def run_import(client: httpx.AsyncClient, *, csv_file: tuple[str, bytes], kind: str, apply_good_rows: bool,
                     images: list[tuple[str, bytes]], console: Console, poll_s: float = POLL_S,
                     wait: Callable[[float], Any] = asyncio.sleep) -> int:
    """Send the file, follow the job to its end; 0 when it was applied, 1 otherwise."""
    params = {"apply_good_rows": "true" if apply_good_rows else "false"}
    if images:
        files: list[tuple[str, tuple[str, bytes, str]]] = [("file", (csv_file[0], csv_file[1], "text/csv"))]
        files += [("images", (name, data, "application/octet-stream")) for name, data in images]
        r = await client.post(f"/v1/imports/{kind}", params=params, files=files)
    else:
        r = await client.post(f"/v1/imports/{kind}", params=params, content=csv_file[1],
                              headers={"content-type": "text/csv"})
    if r.status_code != 202:
        console.print(f"[red]refused ({r.status_code}):[/red] {r.text}")
        return 1
    job = r.json()
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task(f"{kind} import", total=job["total_rows"] or None)
        while job["status"] in ("queued", "running"):
            await wait(poll_s)
            job = (await client.get(f"/v1/imports/{job['id']}")).raise_for_status().json()
            progress.update(task, total=job["total_rows"] or None, completed=job["processed_rows"],
                            description=f"{kind} import: {job['phase']}")
    for e in job["errors"]:
        console.print(f"line {e['line']}, {e['field']}: {e['message']}")
    more = job["error_rows"] - len({e["line"] for e in job["errors"]})
    if more > 0:
        console.print(f"... and {more} more rows with errors")
    console.print(f"{job['status']}: {job['applied_rows']} of {job['total_rows']} rows applied, "
                  f"{job['error_rows']} with errors ({job['encoding'] or 'unread'}; job {job['id']})")
    if job.get("detail"):
        console.print(job["detail"])
    return 0 if job["status"] == "succeeded" else 1
