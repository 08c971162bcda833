"""``slidewatch label DATA_DIR`` (the labeling page) and ``slidewatch label export``."""

from __future__ import annotations

from pathlib import Path

import click


class _ServeByDefault(click.Group):
    """``label DATA_DIR ...`` means ``label serve DATA_DIR ...``; ``label export ...`` exports."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["serve", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_ServeByDefault)
def label() -> None:
    """Label patches in the browser: slidewatch label DATA_DIR [--model RUN/model]
    [--start-from mask|suggestion]; re-open done patches with 'label reopen'.

    DATA_DIR is any patch folder slidewatch reads (flat, official or Hugging Face layout),
    e.g. the output of 'data build-patches'. Masks are saved in the L4S format into the
    folder's layout; the annotation log is DATA_DIR/.slidewatch-labels/log.jsonl.
    """


@label.command("serve")
@click.argument("data_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--model",
    "model_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Model directory (RUN/model) whose predictions start unlabeled patches and order "
    "the list by uncertainty; run through ONNX Runtime (its model.onnx is made on first use "
    "if missing, which needs torch once).",
)
@click.option(
    "--start-from",
    type=click.Choice(["mask", "suggestion"]),
    default="mask",
    show_default=True,
    help="What a patch opens with: its stored mask where one exists (else the model's "
    "suggestion), or the model's suggestion (needs --model; the stored mask stays one click "
    "away). A draft always comes first.",
)
@click.option("--annotator", help="Name recorded in the log. [default: the login name]")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8001, show_default=True, type=click.IntRange(1, 65535), help="Port."
)
def serve(
    data_dir: Path,
    model_dir: Path | None,
    start_from: str,
    annotator: str | None,
    host: str,
    port: int,
) -> None:
    """Serve the labeling page for DATA_DIR at http://HOST:PORT/label."""
    import uvicorn

    from slidewatch.labeling.workspace import Workspace
    from slidewatch.service.labeling import LabelDatasets, label_app

    workspace = Workspace(data_dir, model_dir, start_from=start_from)
    patches = workspace.patches()  # fails here (Error: ...) on a folder without patches
    if model_dir is not None:
        workspace.suggester.describe()  # type: ignore[union-attr]  # load errors before serving
    name = workspace.name
    models = {name: model_dir} if model_dir else None
    datasets = LabelDatasets({name: data_dir}, models, annotator, start_from=start_from)
    unreadable = sum(p.error is not None for p in patches.values())
    click.echo(
        f"{len(patches)} patches in {data_dir}"
        + (f" ({unreadable} unreadable)" if unreadable else "")
        + f"; open http://{host}:{port}/label?dataset={name} (Ctrl+C to stop)"
    )
    click.echo(workspace.start_summary())
    uvicorn.run(label_app(datasets), host=host, port=port, log_level="warning")


@label.command("export")
@click.argument("data_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="New flat dataset folder (img/, mask/, labeling-log.jsonl).",
)
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
def export(data_dir: Path, out: Path, overwrite: bool) -> None:
    """Copy the done patches of DATA_DIR into a clean flat dataset, ready for train --data."""
    from slidewatch.labeling.export import export_labeled

    result = export_labeled(data_dir, out, overwrite)
    click.echo(
        f"{result.patches} labeled patches written to {result.out} "
        f"({result.left_out} not done, left out)"
    )


@label.command("reopen")
@click.argument("data_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("keys", nargs=-1)
@click.option("--all-done", is_flag=True, help="Re-open every done patch.")
@click.option("--annotator", help="Name recorded in the log. [default: the login name]")
def reopen(data_dir: Path, keys: tuple[str, ...], all_done: bool, annotator: str | None) -> None:
    """Put done patches of DATA_DIR back in progress for review (KEYS as the page lists them,
    e.g. img/image_12, or --all-done). Their masks stay in the dataset until saved again."""
    from slidewatch.labeling.patches import state_of
    from slidewatch.labeling.workspace import Workspace
    from slidewatch.service.labeling import LabelDatasets

    if not keys and not all_done:
        raise click.UsageError("name patch keys or give --all-done")
    workspace = Workspace(data_dir)
    states = workspace.store.states()
    chosen = list(keys) or [
        k for k, info in workspace.patches().items() if state_of(info, states).state == "done"
    ]
    who = annotator or LabelDatasets({}).annotator
    for key in chosen:
        version = state_of(workspace.patch(key), workspace.store.states()).version
        workspace.reopen(key, version, who)
    click.echo(f"{len(chosen)} patches re-opened for review in {data_dir}")
