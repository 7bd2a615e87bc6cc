"""Each notebook's closing sentence is computed from its numbers (srtod.report.conclusions): other
numbers, another sentence."""

import math

import pandas as pd

from srtod.report import conclusions as c
from srtod.stages.paper import PAPER_TAB1

NAN = float("nan")


def compare_rows(experiment="faster_rcnn_srtod", baseline="faster_rcnn", **intervals):
    """A compare table (as srtod.stages.tables.compare_table writes it): per metric
    ``(difference, t low, t high, bootstrap low, bootstrap high)``."""
    return pd.DataFrame([{"experiment": experiment, "baseline": baseline, "metric": m, "seeds": 3,
                          "difference": d, "t low": tl, "t high": th, "bootstrap low": bl,
                          "bootstrap high": bh} for m, (d, tl, th, bl, bh) in intervals.items()])


def test_verdict_none_measured_quotes_every_interval():
    df = compare_rows(AP=(0.2, -3.2, 3.7, -0.8, 1.4), APvt=(-0.1, -3.8, 3.6, -1.4, 1.2))
    text = c.verdict_sentence(df, "faster_rcnn_srtod")
    assert "AP +0.2 (over seeds [-3.2, +3.7], over test images [-0.8, +1.4])" in text
    assert "APvt -0.1 (over seeds [-3.8, +3.6], over test images [-1.4, +1.2])" in text
    assert "**Verdict: no difference is measured: every interval includes 0.**" in text


def test_verdict_names_the_interval_that_excludes_zero_and_its_side():
    loss = compare_rows(AP=(-0.5, -2.2, 1.1, -1.4, 0.5), APvt=(-1.0, -1.9, -0.1, -2.3, 0.4))
    text = c.verdict_sentence(loss, "faster_rcnn_srtod")
    assert ("Verdict: no gain is measured: every interval includes 0 except APvt over seeds "
            "(below 0)") in text
    gain = compare_rows(AP=(1.5, 0.2, 2.8, 0.4, 2.6), APvt=(0.5, -1.0, 2.0, -0.2, 1.2))
    text = c.verdict_sentence(gain, "faster_rcnn_srtod")
    assert ("Verdict: a gain is measured: every interval includes 0 except AP over seeds and AP "
            "over test images (above 0)") in text
    both = compare_rows(AP=(1.5, 0.2, 2.8, -0.4, 2.6), APvt=(-1.0, -1.9, -0.1, -2.3, 0.4))
    assert "a gain and a loss are measured" in c.verdict_sentence(both, "faster_rcnn_srtod")


def test_one_seed_without_detections_has_no_verdict():
    df = compare_rows(AP=(0.3, NAN, NAN, NAN, NAN))
    text = c.verdict_sentence(df, "faster_rcnn_srtod")
    assert "over seeds no interval" in text and "no verdict" in text and "Verdict:" not in text


def test_paper_gain_is_placed_against_our_intervals():
    # the paper's Faster R-CNN gain on DroneSwarms: 36.3 - 35.0 = +1.3 AP
    above = compare_rows(AP=(-0.5, -2.2, 1.1, -1.4, 0.5))
    assert c.paper_gain_sentence(above, "faster_rcnn_srtod", "Faster R-CNN", PAPER_TAB1) == (
        "The paper reports +1.3 AP for Faster R-CNN with SR-TOD (its Tab. 1), above both AP "
        "intervals.")
    mixed = compare_rows(AP=(0.2, -3.2, 3.7, -0.8, 1.0))
    text = c.paper_gain_sentence(mixed, "faster_rcnn_srtod", "Faster R-CNN", PAPER_TAB1)
    assert "inside the seed-level interval and above the image-level interval" in text
    assert c.paper_gain_sentence(mixed, "faster_rcnn_srtod", "YOLO", PAPER_TAB1) == ""


def test_tables_conclusion_leads_with_the_main_comparison_and_lists_the_others():
    df = pd.concat([compare_rows("rh_only", "faster_rcnn", AP=(1.0, 0.8, 1.2, 0.1, 1.6)),
                    compare_rows(AP=(0.2, -3.2, 3.7, -0.8, 1.0))])
    text = c.tables_conclusion(df, "faster_rcnn_srtod", "Faster R-CNN", PAPER_TAB1)
    first, rest = text.split("\n\n")
    assert first.startswith("faster_rcnn_srtod - faster_rcnn, paired by seed (3 seeds)")
    assert "above the image-level interval" in first
    assert rest == ("- rh_only against faster_rcnn: a gain is measured: every interval includes 0 "
                    "except AP over seeds and AP over test images (above 0).")
    assert c.tables_conclusion(pd.DataFrame()).startswith("No experiment")


def test_data_conclusion_says_whether_tiny_objects_dominate():
    split = {"images": 160, "instances": 502, "instances_per_image": 3.1375, "median_size": 6.9,
             "size_bucket_fractions": {"very_tiny": 0.61, "tiny": 0.34, "small": 0.05}}
    valid = {s: {"counts": {"images_in": 4, "images_out": 4, "annotations_in": 9,
                            "annotations_out": 9}} for s in ("train", "test")}
    text = c.data_conclusion({"test": split}, valid)
    assert text.startswith("The test split holds 160 images with 502 objects (3.1 per image, "
                           "median size 6.9 px): 61% are very tiny (under 8 px) and 34% tiny")
    assert "tiny objects dominate" in text and "changed no image and no annotation" in text
    large = dict(split, size_bucket_fractions={"very_tiny": 0.1, "tiny": 0.2, "small": 0.7})
    valid["test"]["counts"]["annotations_out"] = 7
    text = c.data_conclusion({"test": large}, valid)
    assert "do not dominate" in text and "dropped 0 images and 2 annotations" in text


def test_train_conclusion_counts_complete_runs_and_reads_t():
    summaries = [{"experiment": r, "max_epochs": 60, "iterations": 7200,
                  "final_t": 40 / 255 if "srtod" in r else None}
                 for r in ("faster_rcnn", "faster_rcnn_srtod")]
    status = pd.DataFrame({"run": ["faster_rcnn", "faster_rcnn_srtod"],
                           "training": ["complete", "complete"]})
    curves = {"faster_rcnn": pd.DataFrame({"epoch": [1, 2, 3], "AP": [10.0, 30.0, 29.0]}),
              "faster_rcnn_srtod": pd.DataFrame({"epoch": [1, 2, 3], "AP": [9.0, 28.0, 31.0]})}
    text = c.train_conclusion(summaries, status, curves)
    assert text.startswith("2 runs trained 60 epochs (7200 iterations); 2 of 2 were complete "
                           "before this notebook ran and were not trained again.")
    assert "ended at 0.1569, its initial 40/255 = 0.1569 (the paper's learnable t" in text
    assert ("The last validation AP ranges 29.0-31.0 over the runs; it lies at most 1.0 points "
            "below a run's best (faster_rcnn, best at epoch 2).") in text
    summaries[1]["final_t"] = 0.2
    assert "it moved by up to 0.0431" in c.train_conclusion(summaries)


def test_evaluate_conclusion_groups_seeds_and_reads_coverage():
    cov = {"per_bucket": {"vt": {"touched_share": 0.5}, "t": {"touched_share": 0.9}},
           "background_share": 0.02}
    records = {"faster_rcnn": {"metrics": {"AP": 30.0, "APvt": 20.0}, "images": 160},
               "faster_rcnn_s1": {"metrics": {"AP": 32.0, "APvt": 22.0}, "images": 160},
               "faster_rcnn_srtod": {"metrics": {"AP": 31.0, "APvt": 21.0}, "images": 160,
                                     "coverage": cov}}
    text = c.evaluate_conclusion(records)
    assert text.startswith("On the 160 test images: faster_rcnn AP 31.0 ± 1.4, APvt 21.0 ± 1.4 "
                           "(2 seeds); faster_rcnn_srtod AP 31.0, APvt 21.0 (1 seed).")
    assert ("faster_rcnn_srtod's binary map D_b touches 50% of the very tiny and 90% of the tiny "
            "boxes while switching on 2.0% of the background pixels.") in text


def test_cost_detect_figures_and_study_conclusions_quote_their_numbers():
    cost = pd.DataFrame([{"detector": "Faster R-CNN", "size": "128x128", "device": "cpu",
                          "params_ratio": 1.0168, "gflops_ratio": 1.4295, "time_ratio": 1.15,
                          "time_ratio_low": 1.1, "time_ratio_high": 1.2}])
    assert c.cost_conclusion(cost) == (
        "At 128x128 px on the CPU, SR-TOD costs Faster R-CNN: +1.7% parameters, 1.43x GFLOPs and "
        "1.15x its time per image (95% interval 1.10-1.20).")
    detect = pd.DataFrame({"mode": ["full frame @ 128 px", "full frame @ native size",
                                    "sliced 128x128, overlap 0.2, + full frame, NMS"],
                           "s/frame": [0.47, 1.11, 6.17], "AP": [0.0, 49.6, 40.6],
                           "APvt": [0.0, 48.4, 49.4]})
    assert c.detect_conclusion(detect) == (
        "Best by APvt: sliced 128x128, overlap 0.2, + full frame, NMS, APvt 49.4 (AP 40.6) at "
        "6.17 s per frame, against APvt 0.0 for the full frame @ 128 px (0.47 s per frame).")
    threshold = {"n_images": 40, "rule": "Youden's J",
                 "recommended": {"t": 0.04, "t255": 10.2, "touched_vt": 0.9, "background_on": 0.1},
                 "at": {"paper DroneSwarms (40/255)": {"touched_vt": 0.3, "touched_t": 0.6,
                                                       "background_on": 0.01}}}
    text = c.figures_conclusion(threshold)
    assert "t = 40/255 switches D_b on at 30% of the very tiny and 60% of the tiny" in text
    assert "and at 1.0% of the background" in text
    assert "recommends t = 10.2/255 (0.0400; Youden's J): there D_b touches 90%" in text
    ref = "SR-TOD t = 40/255 (this study)"
    study = pd.DataFrame([{"row": "RH only", "reference": ref, "metric": "AP", "difference": 0.9,
                           "t low": -1.6, "t high": 3.3, "bootstrap low": -0.1,
                           "bootstrap high": 1.4},
                          {"row": "no threshold", "reference": ref, "metric": "APvt",
                           "difference": -1.2, "t low": -2.0, "t high": -0.3,
                           "bootstrap low": NAN, "bootstrap high": NAN}])
    assert c.study_conclusion(study.iloc[:1]) == (
        f"None of the 1 rows differs measurably from {ref} on AP or APvt: every interval "
        "includes 0.")
    text = c.study_conclusion(study)
    assert "no threshold on APvt over seeds (-1.2, [-2.0, -0.3])" in text


def test_formatting_helpers():
    assert c.ci(-2.24, 1.06) == "[-2.2, +1.1]" and c.ci(NAN, 1.0) == "no interval"
    assert c.pct(0.555) == "56%" and c.pct(0.003) == "0.3%" and c.pct(math.nan) == "-"
    assert c.experiment_of("faster_rcnn_srtod_s2") == "faster_rcnn_srtod"
