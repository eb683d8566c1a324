"""Issue 17's goals on held-out data, checked on the mean MAP@10 over the seeds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .algorithms import BASELINES, HYBRID

METRIC = "map@10"
HYBRID_OVER_POPULARITY = 3.0
HYBRID_OVER_BEST_SINGLE = 1.2


def check_goals(summary: Mapping[str, dict], names: Sequence[str]) -> list[dict]:
    """Each goal with ``passed`` (False where what it compares was not evaluated or failed) and the numbers."""
    value = {name: summary[name][METRIC]["mean"] for name in names if _complete(summary[name])}
    failed = [name for name in names if name not in value]
    personal = [name for name in names if name not in BASELINES]
    singles = [name for name in personal if name != HYBRID]
    popularity = value.get("popularity")
    best_single = max((name for name in singles if name in value), key=value.__getitem__, default=None)
    # The best single strategy is only known when every single strategy ran.
    best = value[best_single] if best_single and not set(singles) & set(failed) else None
    return [
        _beats_popularity(value, personal, failed, popularity),
        _ratio_goal(
            f"{HYBRID} ≥ {HYBRID_OVER_POPULARITY:g}x popularity's MAP@10",
            value.get(HYBRID),
            popularity,
            "popularity",
            HYBRID_OVER_POPULARITY,
        ),
        _ratio_goal(
            f"{HYBRID} ≥ {HYBRID_OVER_BEST_SINGLE:g}x the best single strategy's MAP@10",
            value.get(HYBRID),
            best,
            f"the best single strategy ({best_single})" if best_single else "the best single strategy",
            HYBRID_OVER_BEST_SINGLE,
        ),
    ]


def _complete(result: dict) -> bool:
    return result["errors"] == 0 and METRIC in result


def _beats_popularity(value: dict[str, float], personal: list[str], failed: list[str], popularity: float | None):
    goal = "every personal strategy beats popularity on MAP@10"
    if popularity is None:
        return {"goal": goal, "passed": False, "detail": "popularity was not evaluated"}
    if not personal:
        return {"goal": goal, "passed": False, "detail": "no personal strategy was evaluated"}
    if broken := [name for name in personal if name in failed]:
        return {"goal": goal, "passed": False, "detail": f"failed: {', '.join(broken)}"}
    behind = [name for name in personal if value[name] <= popularity]
    detail = f"popularity {popularity:.4f}; " + ", ".join(f"{name} {value[name]:.4f}" for name in personal)
    if behind:
        detail += f"; not ahead: {', '.join(behind)}"
    return {"goal": goal, "passed": not behind, "detail": detail}


def _ratio_goal(goal: str, hybrid: float | None, other: float | None, other_name: str, factor: float) -> dict:
    if hybrid is None:
        return {"goal": goal, "passed": False, "detail": f"{HYBRID} was not evaluated"}
    if other is None:
        return {"goal": goal, "passed": False, "detail": f"{other_name} was not evaluated"}
    ratio = hybrid / other if other > 0 else float("inf")
    return {
        "goal": goal,
        "passed": ratio >= factor,
        "detail": f"{HYBRID} {hybrid:.4f}, {other_name} {other:.4f}: {ratio:.2f}x",
    }
