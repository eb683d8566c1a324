"""The results file, its tables in Markdown and the plot of latency and recall against catalogue size."""

import json
from pathlib import Path

MEBIBYTE = 2**20
STYLES = {"all": "-", "same gender, in stock": "--"}


def load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {"sizes": {}}


def save(results: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


def tables(results: dict) -> str:
    """Markdown: the builds, then the queries, then the product page, one row per size."""
    sizes = sorted(results["sizes"].items(), key=lambda item: int(item[0]))
    lines = [
        "| products | index | build | peak memory | maintenance_work_mem | workers | index size |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, result in sizes:
        for kind, build in result.get("builds", {}).items():
            lines.append(
                f"| {int(size):,} | {kind} | {build['seconds']:.0f} s | {build['peak_bytes'] / MEBIBYTE:,.0f} MiB "
                f"| {build['maintenance_work_mem_mb']:,} MB | {build['parallel_workers_seen']} "
                f"| {build['index_bytes'] / MEBIBYTE:,.0f} MiB |"
            )
    lines += [
        "",
        "| products | query | scope | ef_search | p50 | p95 | recall@10 | exact re-runs | server CPU | app CPU |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, result in sizes:
        for kind, scopes in result.get("queries", {}).items():
            if kind == "index_used_share":
                continue
            for scope, by_ef in scopes.items():
                for ef, row in sorted(by_ef.items(), key=lambda item: int(item[0])):
                    recall = f"{row['recall_at_10']:.3f}" if "recall_at_10" in row else ""
                    lines.append(
                        f"| {int(size):,} | {kind} | {scope} | {ef} | {row['p50_ms']:.1f} ms | {row['p95_ms']:.1f} ms "
                        f"| {recall} | {row.get('exact_reruns', '')} | {row['server_cpu_ms']:.1f} ms "
                        f"| {row['client_cpu_ms']:.1f} ms |"
                    )
    lines += ["", "| products | page | p50 | p95 | server CPU | app CPU |"]
    lines.append("| ---: | --- | ---: | ---: | ---: | ---: |")
    for size, result in sizes:
        pages = {
            **result.get("product_page", {}),
            **{
                f"{name}, DEBUG off": row
                for name, row in result.get("product_page_debug_off", {}).items()
                if isinstance(row, dict)
            },
        }
        for page, row in pages.items():
            lines.append(
                f"| {int(size):,} | {page} | {row['p50_ms']:.1f} ms | {row['p95_ms']:.1f} ms "
                f"| {row['server_cpu_ms']:.1f} ms | {row['client_cpu_ms']:.1f} ms |"
            )
    return "\n".join(lines)


def _series(results: dict, kind: str, scope: str, ef: str) -> tuple[list[int], list[dict]]:
    points = [
        (int(size), result["queries"][kind][scope][ef])
        for size, result in sorted(results["sizes"].items(), key=lambda item: int(item[0]))
        if ef in result["queries"].get(kind, {}).get(scope, {})
    ]
    return [x for x, _ in points], [row for _, row in points]


def plot(results: dict, path: Path, kind: str = "vector", others: tuple[str, ...] = ("halfvec",)) -> None:
    """p50 latency, the database's CPU per query and recall@10 against catalogue size, one line per ef_search,
    solid without filters and dashed with them; the other index kinds at the storefront's ef_search as red points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (latency, cpu, recall) = plt.subplots(1, 3, figsize=(17, 4.8))
    ef_values = sorted({ef for result in results["sizes"].values() for ef in result["queries"][kind]["all"]}, key=int)
    colours = plt.cm.viridis([i / max(1, len(ef_values) - 1) for i in range(len(ef_values))])
    for ef, colour in zip(ef_values, colours, strict=True):
        for scope, style in STYLES.items():
            sizes, rows = _series(results, kind, scope, ef)
            label = f"{kind}, ef_search {ef}" + ("" if scope == "all" else ", same gender + in stock")
            latency.plot(sizes, [row["p50_ms"] for row in rows], style, color=colour, marker="o", label=label)
            cpu.plot(sizes, [row["server_cpu_ms"] for row in rows], style, color=colour, marker="o")
            recall.plot(sizes, [row["recall_at_10"] for row in rows], style, color=colour, marker="o")
    for other in others:
        for scope, marker in (("all", "s"), ("same gender, in stock", "D")):
            sizes, rows = _series(results, other, scope, "100")
            if sizes:
                label = f"{other}, ef_search 100" + ("" if scope == "all" else ", same gender + in stock")
                latency.scatter(sizes, [row["p50_ms"] for row in rows], marker=marker, color="tab:red", label=label)
                cpu.scatter(sizes, [row["server_cpu_ms"] for row in rows], marker=marker, color="tab:red")
                recall.scatter(sizes, [row["recall_at_10"] for row in rows], marker=marker, color="tab:red")
    latency.axhline(10, color="grey", linewidth=0.8, linestyle=":")
    recall.axhline(0.95, color="grey", linewidth=0.8, linestyle=":")
    titles = {
        latency: "similar-items SQL, p50 (ms), loaded machine",
        cpu: "database CPU per query (ms)",
        recall: "recall@10 against exact search",
    }
    for axes, title in titles.items():
        axes.set_xscale("log")
        axes.set_xlabel("products in the catalogue")
        axes.set_title(title)
        axes.grid(True, which="both", alpha=0.3)
    latency.legend(fontsize=7)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
