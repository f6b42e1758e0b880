"""`shop tour`: the policy demonstrated against a running server, section by section, with real API calls.

Each step checks the answer it gets; the first unexpected one stops the tour with a message naming the
step and what came back (exit status 1). Everything the tour creates carries a run id, so it can run
again and again against the same server.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from app.tour import cast
from app.tour.client import Api, TourFailed
from app.tour.sections import Reporter, Tour

__all__ = ["TourFailed", "run_tour"]


def new_run_id() -> str:
    """Unique enough per run for SKUs, codes and e-mail addresses: time to the second plus 4 random hex digits."""
    return datetime.now().strftime("%y%m%d%H%M%S") + secrets.token_hex(2).upper()


def run_tour(*, base_url: str, admin_token: str | None, credentials: Path, console: Console | None = None) -> int:
    """Walk through every section; 0 when every step got the answer it expected, 1 otherwise."""
    console = console or Console(soft_wrap=True)
    if not admin_token:
        console.print("[bold red]The tour needs the platform operator's token[/bold red] (it verifies merchants, "
                      "reads the platform-wide channel share and takes a listing down). Start the server with "
                      "SHOP_ADMIN_TOKEN set and give the same value here: SHOP_ADMIN_TOKEN=... or --admin-token.")
        return 1
    run = new_run_id()
    api = Api(base_url)
    tour = Tour(api, Reporter(console), admin=admin_token, creds=cast.read_credentials(credentials), run=run)
    steps = tour.steps()
    started = time.monotonic()
    console.print(f"[bold]Liutong 流通 — the policy, demonstrated[/bold] against {api.base_url} (run {run})")
    try:
        with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=True) as progress:
            task = progress.add_task("tour", total=len(steps))
            for name, step in steps:
                progress.update(task, description=name)
                step()
                progress.advance(task)
    except TourFailed as exc:
        console.print()
        console.print(f"[bold red]TOUR FAILED[/bold red] {exc}")
        return 1
    finally:
        api.close()
    console.print()
    console.rule("[bold]done[/bold]", align="left")
    console.print(f"tour complete: {len(steps)} steps, {api.calls} API calls in {time.monotonic() - started:.1f} s; "
                  f"every answer was checked")
    return 0
