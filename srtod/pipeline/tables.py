"""The paper's tables from the pipeline's results: ours beside the paper's numbers.

Each table is a DataFrame (and a markdown + CSV file): one row per method, our metrics in percent
with one decimal, the paper's value in a ``paper <metric>`` column. Rows of experiments the active
profile did not run say so instead of showing a number.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from ..paths import RESULTS, TABLES

# Paper Tab. 1 (DroneSwarms): AP, AP50, AP75, APvt, APt, APs.
PAPER_TAB1 = {
    "Faster R-CNN": ((35.0, 83.9, 20.9, 27.3, 44.3, 56.5), (36.3, 86.4, 21.7, 29.5, 45.1, 56.0)),
    "Cascade R-CNN": ((36.4, 85.0, 23.5, 28.8, 45.7, 58.3), (38.3, 87.4, 25.4, 30.8, 47.4, 59.4)),
    "RetinaNet": ((27.3, 75.8, 11.3, 21.0, 40.5, 56.2), (28.7, 77.2, 12.9, 22.3, 42.1, 56.9)),
    "DINO": ((35.4, 85.9, 20.3, 28.8, 44.7, 57.3), (35.6, 86.0, 20.7, 28.4, 44.8, 58.2)),
}
# Paper Tab. 2 (VisDrone2019) and Tab. 3 (AI-TOD); detectors the paper did not run there are absent.
PAPER_TAB2 = {
    "Faster R-CNN": ((23.9, 42.2, 23.8, 0.1, 6.5, 21.1), (26.3, 46.8, 26.0, 2.9, 11.0, 23.7)),
    "Cascade R-CNN": ((25.2, 42.6, 25.9, 0.1, 7.0, 22.5), (27.3, 46.9, 27.5, 2.3, 11.5, 24.7)),
}
PAPER_TAB3 = {
    "Faster R-CNN": ((11.7, 27.4, 8.2, 0.0, 8.6, 23.7), (20.6, 49.8, 13.2, 7.1, 21.3, 26.3)),
    "Cascade R-CNN": ((14.0, 31.2, 10.7, 0.1, 10.3, 26.2), (21.9, 50.6, 15.6, 9.6, 22.4, 26.7)),
}
#: data set -> (table key, paper values) of the main results table; any other set: Tab. 1
MAIN_TABLE = {"visdrone": ("table2", PAPER_TAB2), "aitod": ("table3", PAPER_TAB3)}
TAB1_METRICS = ("AP", "AP50", "AP75", "APvt", "APt", "APs")
ABLATION_METRICS = ("AP", "AP50", "APvt", "APt", "APs")
# Paper Tab. 4-7 (Cascade R-CNN on DroneSwarms; Tab. 5 on VisDrone2019): AP, AP50, APvt, APt, APs.
PAPER_ABLATIONS = {
    "table4": {"baseline": (36.4, 85.0, 28.8, 45.7, 58.3), "RH": (36.5, 84.9, 28.7, 45.9, 58.5),
               "RH + DGFE": (38.3, 87.4, 30.8, 47.4, 59.4)},
    "table5": {"w/o T": (27.0, 46.6, 2.2, 11.3, 24.2), "fixed T": (27.1, 46.8, 2.3, 11.2, 24.0),
               "learnable T (paper)": (27.3, 46.9, 2.3, 11.5, 24.7),
               "learnable T (STE, learns)": None},
    "table6": {"EM": (36.2, 84.9, 28.8, 45.7, 58.4), "Concat": (36.6, 85.3, 29.0, 46.0, 58.7),
               "EA (DGFE)": (38.3, 87.4, 30.8, 47.4, 59.4)},
    "table7": {"baseline": (36.4, 85.0, 28.8, 45.7, 58.3), "PD": (38.3, 87.4, 30.8, 47.4, 59.4),
               "HFD": (38.4, 87.6, 31.1, 47.6, 59.2)},
}
TITLES = {
    "table1": "Tab. 1: detectors without and with SR-TOD (paper: DroneSwarms)",
    "table2": "Tab. 2: detectors without and with SR-TOD (paper: VisDrone2019)",
    "table3": "Tab. 3: detectors without and with SR-TOD (paper: AI-TOD)",
    "table4": "Tab. 4: reconstruction head (RH) and DGFE",
    "table5": "Tab. 5: threshold filtration",
    "table6": "Tab. 6: feature enhancement",
    "table7": "Tab. 7: pixel (PD) vs high-frequency (HFD) difference map",
    "seeds": "Baseline vs SR-TOD and RH vs RH + DGFE over seeds (mean, std, runs)",
}


def load_record(name: str, results: Path = RESULTS) -> dict:
    """The evaluation record of experiment ``name`` (``{'enabled': False}`` if absent)."""
    path = results / "eval" / name / "metrics.json"
    if not path.is_file():
        return {"experiment": name, "enabled": False, "skipped": "not evaluated"}
    return json.loads(path.read_text())


def _fmt(value) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f}"


def _row(label: str, record: dict, metrics, paper) -> dict:
    row = {"method": label, "experiment": record.get("experiment")}
    if not record.get("enabled"):
        row["note"] = record.get("skipped", "not run")
    ours = record.get("metrics") or {}
    for i, m in enumerate(metrics):
        row[m] = ours.get(m) if record.get("enabled") else None
        row[f"paper {m}"] = paper[i] if paper else None
    if record.get("final_t") is not None:
        row["final t"] = record["final_t"]
    return row


def main_table(params: dict) -> tuple[str, dict]:
    """The main results table's key and paper values for the active data set: 'table1'
    (DroneSwarms and the synthetic set), 'table2' (VisDrone) or 'table3' (AI-TOD)."""
    return MAIN_TABLE.get(params["active"]["data"]["name"], ("table1", PAPER_TAB1))


def table1(params: dict, results: Path = RESULTS) -> pd.DataFrame:
    """Tab. 1 analog (Tab. 2 / 3 on VisDrone / AI-TOD): each detector's baseline, w/ SR-TOD and
    the improvement row, beside the paper's values for that data set."""
    paper_values = main_table(params)[1]
    rows = []
    by_detector: dict[str, dict[bool, str]] = {}
    for name, spec in params["experiments"].items():
        if "config" in spec:
            srtod = Path(spec["config"]["slim"]).name.startswith("srtod_")
            by_detector.setdefault(spec["detector"], {})[srtod] = name
    for detector, names in by_detector.items():
        paper = paper_values.get(detector, (None, None))
        base, ours = load_record(names[False], results), load_record(names[True], results)
        rows.append(_row(detector, base, TAB1_METRICS, paper[0]))
        rows.append(_row(f"{detector} w/ SR-TOD", ours, TAB1_METRICS, paper[1]))
        delta = {"method": "  improvement", "experiment": None}
        for i, m in enumerate(TAB1_METRICS):
            a, b = rows[-2][m], rows[-1][m]
            delta[m] = None if a is None or b is None else b - a
            delta[f"paper {m}"] = (None if paper[0] is None else
                                   round(paper[1][i] - paper[0][i], 1))
        rows.append(delta)
    return pd.DataFrame(rows)


def ablation_tables(params: dict, results: Path = RESULTS) -> dict[str, pd.DataFrame]:
    """Tab. 4-7 analogs on the profile's ablation detector."""
    det = params["active"]["ablation_detector"]
    rows = {
        "table4": [("baseline", det), ("RH", "rh_only"), ("RH + DGFE", f"{det}_srtod")],
        "table5": [("w/o T", "thr_none"), ("fixed T", "thr_fixed"),
                   ("learnable T (paper)", f"{det}_srtod"), ("learnable T (STE, learns)", "thr_ste")],
        "table6": [("EM", "fusion_em"), ("Concat", "fusion_concat"), ("EA (DGFE)", f"{det}_srtod")],
        "table7": [("baseline", det), ("PD", f"{det}_srtod"), ("HFD", "diff_highfreq")],
    }
    return {key: pd.DataFrame([_row(label, load_record(name, results), ABLATION_METRICS,
                                    PAPER_ABLATIONS[key][label]) for label, name in spec])
            for key, spec in rows.items()}


def seed_table(params: dict, results: Path = RESULTS,
               metrics=("AP", "AP50", "APvt", "APt")) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Key comparisons over seeds: per-run values (long) and mean ± std per group."""
    long = []
    for name, spec in params["experiments"].items():
        group = spec["base"] if "seed" in spec else name
        if group == name and not any(s.get("base") == name and "seed" in s
                                     for s in params["experiments"].values()):
            continue
        record = load_record(name, results)
        if not record.get("enabled"):
            continue
        for m in metrics:
            long.append({"experiment": group, "run": name, "seed": record.get("seed", 0),
                         "metric": m, "value": record["metrics"].get(m)})
    long_df = pd.DataFrame(long, columns=["experiment", "run", "seed", "metric", "value"])
    if long_df.empty:
        return long_df, pd.DataFrame()
    summary = (long_df.groupby(["experiment", "metric"])["value"]
               .agg(["mean", "std", "count"]).reset_index())
    return long_df, summary


def to_markdown(df: pd.DataFrame, title: str) -> str:
    """A markdown table with one-decimal numbers and '-' for missing values."""
    cols = [c for c in df.columns if c != "experiment" or "method" not in df.columns]
    lines = [f"### {title}", "", "| " + " | ".join(cols) + " |",
             "|" + "|".join(" --- " for _ in cols) + "|"]
    for _, row in df.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v):
                cells.append(_fmt(float(v)) if c != "final t" else f"{v:.4f}")
            elif isinstance(v, float):  # NaN: no value
                cells.append("-")
            else:
                cells.append("" if v is None else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_tables(params: dict, results: Path = RESULTS, out: Path = TABLES) -> dict[str, pd.DataFrame]:
    """Write every table as markdown and CSV, plus ``headline.json`` (DVC metrics)."""
    out.mkdir(parents=True, exist_ok=True)
    main_key = main_table(params)[0]
    tables = {main_key: table1(params, results), **ablation_tables(params, results)}
    long, summary = seed_table(params, results)
    tables["seeds"] = summary
    long.to_csv(out / "seeds_runs.csv", index=False)
    for key, df in tables.items():
        df.to_csv(out / f"{key}.csv", index=False)
        (out / f"{key}.md").write_text(to_markdown(df, TITLES[key]))
    headline = {}
    for _, row in tables[main_key].iterrows():
        if isinstance(row["experiment"], str) and not pd.isna(row.get("AP")):
            headline[row["experiment"]] = {m: round(float(row[m]), 2) for m in TAB1_METRICS
                                           if row[m] is not None and not pd.isna(row[m])}
    (out / "headline.json").write_text(json.dumps(headline, indent=2) + "\n")
    every = {}
    for name in params["experiments"]:
        record = load_record(name, results)
        if record.get("enabled"):
            every[name] = {k: round(v, 2) for k, v in record["metrics"].items()
                           if isinstance(v, (int, float)) and not math.isnan(v)}
            if record.get("final_t") is not None:
                every[name]["final_t"] = round(record["final_t"], 5)
    (out / "all_metrics.json").write_text(json.dumps(every, indent=2) + "\n")
    cost = results / "cost" / "cost.md"
    if cost.is_file():
        (out / "cost.md").write_text(cost.read_text())
    return tables
