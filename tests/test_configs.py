"""Every config loads and builds; every detector, baseline and SR-TOD, trains a step and predicts."""

import numpy as np
import pytest
import torch

from conftest import make_batch, offline_config
from srtod.config import list_configs, load_config

# the slim CPU configs and the DroneSwarms paper configs; test_paper_configs.py builds the
# VisDrone2019 / AI-TOD ones and trains a step of one per detector; test_run_configs.py checks the
# ablations and longer schedules (one change each to one of these)
CONFIGS = [c for c in list_configs() if c.endswith(("_60e_synthetic-128.py", "_droneswarms.py"))
           and not c.startswith("ablations/")]


def _build(cfg):
    from srtod.inference import build_model

    return build_model(cfg).train()


def test_config_list_covers_every_detector_and_variant():
    names = [c.split("/")[-1] for c in CONFIGS]
    for prefix in ("", "srtod_"):  # DetectoRS has no ResNet-18: its slim model is a thin R50
        for setting in ("r50-slim", "r50"):
            assert any(n.startswith(f"{prefix}detectors_cascade-rcnn_{setting}_") for n in names)
    for det in ("faster-rcnn", "cascade-rcnn", "retinanet", "dino", "cascade-rcnn-rfla"):
        for prefix in ("", "srtod_"):
            for setting in ("r18-slim", "r50"):
                assert any(c.split("/")[-1].startswith(f"{prefix}{det}_{setting}")
                           or c.split("/")[-1].startswith(f"{prefix}{det}-4scale_{setting}")
                           for c in CONFIGS), (prefix, det, setting)


@pytest.mark.parametrize("config", CONFIGS)
def test_config_trains_one_step_and_predicts(config):
    torch.manual_seed(0)
    small = "r18-slim" in config
    cfg = offline_config(config)
    model = _build(cfg)
    assert all(torch.isfinite(p).all() for p in model.parameters())  # init_weights ran
    sizes = ((128, 128), (112, 96)) if small else ((96, 128), (96, 96))
    if "dino" in config and not small:  # two-stage DINO needs more tokens than its 900 queries
        sizes = ((256, 256), (256, 224))
    data = model.data_preprocessor(make_batch(sizes=sizes), True)
    losses = model.loss(data["inputs"], data["data_samples"])
    total, log_vars = model.parse_losses(losses)
    assert torch.isfinite(total)
    is_srtod = config.split("/")[-1].startswith("srtod_")
    assert ("loss_rec" in losses) == is_srtod
    if is_srtod:
        # the reconstruction loss alone reaches the backbone's trainable (unfrozen) weights
        trainable = [p for p in model.backbone.parameters() if p.requires_grad]
        grads = torch.autograd.grad(losses["loss_rec"], trainable, retain_graph=True,
                                    allow_unused=True)
        assert any(g is not None and g.abs().sum() > 0 for g in grads)
        assert "srtod_t" in log_vars and "srtod_t" not in [k for k in losses if "loss" in k]
    total.backward()
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(make_batch(sizes=sizes), False)
        results = model.predict(data["inputs"], data["data_samples"])
    assert len(results) == 2
    for res, (h, w) in zip(results, sizes, strict=True):
        inst = res.pred_instances
        assert inst.bboxes.ndim == 2 and inst.bboxes.shape[1] == 4
        assert len(inst.scores) == len(inst.labels) == len(inst.bboxes)
        assert (inst.labels == 0).all()  # one class
        assert (inst.bboxes[:, 0::2] <= w + 1e-3).all() and (inst.bboxes[:, 1::2] <= h + 1e-3).all()


def test_srtod_state_dict_extends_the_baseline():
    base = _build(load_config("faster_rcnn/faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"))
    ours = _build(load_config("faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"))
    extra = set(ours.state_dict()) - set(base.state_dict())
    assert set(base.state_dict()) <= set(ours.state_dict())
    assert extra and all(k.startswith("srtod.") for k in extra)
    assert type(ours).__name__ == "SRTODFasterRCNN" and isinstance(ours, type(base))


def test_pretrained_backbone_loads_from_local_checkpoint(tmp_path):
    """Users with ImageNet weights point init_cfg at a file or URL; test it with a file."""
    from mmdet.registry import MODELS

    cfg = load_config("faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py")
    donor = MODELS.build(cfg.model.backbone)
    for p in donor.parameters():
        torch.nn.init.uniform_(p, -0.5, 0.5)
    path = tmp_path / "backbone.pth"
    torch.save({"state_dict": donor.state_dict()}, path)
    cfg.model.backbone.init_cfg = dict(type="Pretrained", checkpoint=str(path))
    model = _build(cfg)
    model.init_weights()
    torch.testing.assert_close(model.backbone.conv1.weight, donor.conv1.weight)


def test_dataset_switch_reads_classes_anchor_and_threshold_from_the_data_set_base():
    from srtod.config import dataset_base

    # the slim CPU configs move to any data set: data, classes, anchor scale and t of its base
    cfg = load_config("faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py",
                      dataset="visdrone")
    assert cfg.model.roi_head.bbox_head.num_classes == 10
    assert cfg.model.rpn_head.anchor_generator.scales == [6]
    assert abs(cfg.model.srtod.dgfe.threshold.init - 4 / 255) < 1e-9
    assert cfg.train_dataloader.dataset.type == "VisDroneDataset"
    assert cfg.train_dataloader.dataset.pipeline[2]["scale"] == (1280, 1280)
    assert cfg.dataset_name == "visdrone"
    cfg = load_config("retinanet/srtod_retinanet_r18-slim_fpn_60e_synthetic-128.py", dataset="AITOD")
    base = dataset_base("aitod")
    assert cfg.model.bbox_head.num_classes == base.num_classes == 8
    assert cfg.model.bbox_head.anchor_generator.octave_base_scale == base.anchor_scale == 4
    assert cfg.model.srtod.dgfe.threshold.init == base.threshold_init
    # a config written for the data set asked for is not patched
    own = load_config("faster_rcnn/srtod_faster-rcnn_r50_fpn_12e_visdrone.py")
    assert load_config("faster_rcnn/srtod_faster-rcnn_r50_fpn_12e_visdrone.py",
                       dataset="visdrone").to_dict() == own.to_dict()
    # a paper config is not moved to another real data set (its schedule and detections per image
    # are its own data set's): the error names the configs to use instead
    with pytest.raises(ValueError, match="srtod_faster-rcnn_r50_fpn_12e_aitod.py"):
        load_config("faster_rcnn/srtod_faster-rcnn_r50_fpn_20e_droneswarms.py", dataset="aitod")
    # ... but may rehearse on the synthetic set
    cfg = load_config("faster_rcnn/faster-rcnn_r50_fpn_12e_visdrone.py", dataset="synthetic")
    assert cfg.model.roi_head.bbox_head.num_classes == 1 and cfg.dataset_name == "synthetic"
    with pytest.raises(FileNotFoundError, match="available"):
        load_config("faster_rcnn/nope.py")


def test_difference_maps_read_out_at_inference_without_second_pass():
    from srtod.models import record_intermediates

    model = _build(load_config("faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"))
    model.eval()
    calls = []
    model.srtod.recon_head.register_forward_hook(lambda *a: calls.append(1))
    data = model.data_preprocessor(make_batch(sizes=((128, 128), (128, 96))), False)
    with torch.no_grad(), record_intermediates(model) as records:
        results = model.predict(data["inputs"], data["data_samples"])
    assert len(calls) == 1 and len(records) == 1 and len(results) == 2
    rec = records[0]
    n, _, h, w = data["inputs"].shape
    assert rec["recon"].shape == (n, 3, h, w) and rec["dmap"].shape == (n, 1, h, w)
    assert set(rec["mask"].unique().tolist()) <= {0.0, 0.5, 1.0}
    assert rec["feat"].shape == rec["level"].shape == (n, 64, h // 4, w // 4)


@pytest.mark.parametrize("config, epochs, expected", [
    # the CPU cosine ends at the last trained epoch, whatever max_epochs is
    ("faster_rcnn/faster-rcnn_r18-slim_fpn_60e_synthetic-128.py", 30,
     {"CosineAnnealingLR": dict(begin=0, end=30)}),
    ("faster_rcnn/faster-rcnn_r18-slim_fpn_60e_synthetic-128.py", 3,
     {"CosineAnnealingLR": dict(begin=0, end=3)}),
    # the paper's step schedule keeps its shape: decay at 16 and 19 of 20 -> 24 and 29 of 30
    ("faster_rcnn/faster-rcnn_r50_fpn_20e_droneswarms.py", 30,
     {"MultiStepLR": dict(begin=0, end=30, milestones=[24, 29])}),
])
def test_lr_schedule_follows_max_epochs(config, epochs, expected):
    from srtod.config import load_config

    cfg = load_config(config, options={"train_cfg.max_epochs": epochs})
    assert cfg.train_cfg.max_epochs == epochs
    by_type = {s["type"]: s for s in cfg.param_scheduler}
    for kind, values in expected.items():
        assert {k: by_type[kind][k] for k in values} == values
    assert by_type["LinearLR"]["by_epoch"] is False and by_type["LinearLR"]["end"] in (100, 500)


def test_cosine_reaches_its_floor_at_the_last_iteration():
    """The built mmengine cosine scheduler, stepped as the runner does: at the last of 3 epochs x
    5 iterations the rate is next to its floor (5% of the peak), not halfway down a 12-epoch decay."""
    from mmengine.optim.scheduler import CosineAnnealingLR

    cfg = load_config("faster_rcnn/faster-rcnn_r18-slim_fpn_60e_synthetic-128.py",
                      options={"train_cfg.max_epochs": 3})
    spec = dict(next(s for s in cfg.param_scheduler if s["type"] == "CosineAnnealingLR"))
    for key in ("type", "convert_to_iter_based", "by_epoch"):
        spec.pop(key)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.01)
    sched = CosineAnnealingLR.build_iter_from_epoch(opt, epoch_length=5, **spec)
    lrs = []
    for _ in range(15):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    floor = 0.05 * 0.01
    assert lrs[-1] == pytest.approx(floor + (0.01 - floor) * (1 + np.cos(np.pi * 14 / 15)) / 2)
    assert lrs[-1] < 0.07 * 0.01 and lrs == sorted(lrs, reverse=True)


@pytest.mark.parametrize("config", [
    "faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py",
    "dino/srtod_dino-4scale_r18-slim_60e_synthetic-128.py",
    "faster_rcnn/srtod_faster-rcnn_r50_fpn_12e_visdrone.py",
])
def test_threshold_gets_no_weight_decay_unless_asked(config):
    """The paper's t has zero gradient: decay would be all that moves it (issue 10). Every
    schedule excludes it; decay_mult=1 restores the official behaviour."""
    from mmengine.optim import build_optim_wrapper

    from srtod.inference import build_model

    def t_decay(**options):
        cfg = offline_config(config, **options)
        model = build_model(cfg, device="cpu")
        groups = build_optim_wrapper(model, cfg.optim_wrapper).optimizer.param_groups
        t = model.srtod.dgfe.threshold.t
        (group,) = [g for g in groups if any(p is t for p in g["params"])]
        return group["weight_decay"], cfg.optim_wrapper.optimizer.weight_decay

    assert t_decay() == (0.0, pytest.approx(1e-4))
    decay, base = t_decay(**{"optim_wrapper.paramwise_cfg.custom_keys.threshold.decay_mult": 1.0})
    assert decay == base > 0


def test_detectors_reconstructs_the_final_p2_from_the_input_image():
    """DetectoRS runs the backbone twice inside extract_feat (the recursive pyramid): SR-TOD must
    read the pyramid after the second pass, rebuild the input image (not an RFP feature), and the
    enhanced P2 must be what the RPN and the RoI heads see."""
    from srtod.models import input_to_unit_range

    torch.manual_seed(0)
    cfg = load_config("detectors/srtod_detectors_cascade-rcnn_r50-slim_fpn_60e_synthetic-128.py")
    model = _build(cfg)
    seen = {"backbone": 0, "rfp_backbone": 0}

    def count(name):
        def hook(module, args, out):
            seen[name] += 1
        return hook

    model.backbone.register_forward_hook(count("backbone"))
    for second in model.neck.rfp_modules:  # the recursive pass calls rfp_forward, not forward
        def counted(*args, _forward=second.rfp_forward):
            seen["rfp_backbone"] += 1
            return _forward(*args)
        second.rfp_forward = counted
    model.neck.register_forward_hook(lambda m, a, out: seen.__setitem__("pyramid", out))
    model.srtod.register_forward_hook(
        lambda m, args, out: seen.update(srtod_in=args[0], target=args[1], srtod_out=out[0]))
    model.rpn_head.register_forward_hook(lambda m, args, out: seen.__setitem__("rpn_in", args[0]))
    model.roi_head.bbox_roi_extractor[0].register_forward_hook(
        lambda m, args, out: seen.__setitem__("roi_in", args[0]))
    data = model.data_preprocessor(make_batch(sizes=((128, 128), (128, 96))), True)
    model.loss(data["inputs"], data["data_samples"])
    assert seen["backbone"] == 1 and seen["rfp_backbone"] == cfg.model.neck.rfp_steps - 1
    assert seen["srtod_in"] is seen["pyramid"]  # the pyramid after the recursive pass
    assert torch.equal(seen["target"], input_to_unit_range(data["inputs"], model.data_preprocessor))
    assert seen["target"].shape[1] == 3
    enhanced = seen["srtod_out"][0]
    assert not torch.equal(enhanced, seen["pyramid"][0])  # DGFE changed P2
    assert seen["rpn_in"][0] is enhanced and seen["roi_in"][0] is enhanced


def test_training_fingerprint_does_not_depend_on_where_the_checkout_lies(tmp_path, monkeypatch):
    """A clone or moved checkout keeps its trained runs: the data root inside the repository
    counts relative to it; a data root elsewhere, or another data set, changes the fingerprint."""
    import srtod.paths
    from srtod.config import config_fingerprint

    name = "faster_rcnn/faster-rcnn_r18-slim_fpn_60e_synthetic-128.py"
    prints = []
    for clone in ("a", "b"):
        root = (tmp_path / clone).resolve()
        monkeypatch.setattr(srtod.paths, "ROOT", root)
        monkeypatch.setattr(srtod.paths, "WORKSPACE", root)
        cfg = load_config(name, data_root=root / "data" / "prepared")
        assert cfg.train_dataloader.dataset.data_root.startswith(str(root))  # absolute in the config
        prints.append(config_fingerprint(cfg))
    assert prints[0] == prints[1]
    elsewhere = load_config(name, data_root=tmp_path / "other" / "prepared")
    assert config_fingerprint(elsewhere) != prints[1]
    moved = load_config(name, data_root=(tmp_path / "b").resolve() / "data" / "other")
    assert config_fingerprint(moved) != prints[1]


def test_slim_roi_features_come_from_torchvision_with_mmcvs_values():
    """The slim configs take torchvision's RoIAlign kernel (faster on the CPU); it computes mmcv's
    values and gradients (aligned, adaptive sampling), so the choice changes no result."""
    from mmcv.ops import RoIAlign

    for config in ("faster_rcnn/srtod_faster-rcnn_r18-slim_fpn_60e_synthetic-128.py",
                   "cascade_rcnn/cascade-rcnn_r18-slim_fpn_60e_synthetic-128.py",
                   "rfla/cascade-rcnn-rfla_r18-slim_fpn_60e_synthetic-128.py"):
        layer = load_config(config).model.roi_head.bbox_roi_extractor.roi_layer
        assert layer.use_torchvision and layer.sampling_ratio == 0, config
    gen = torch.Generator().manual_seed(0)
    feat = torch.randn(2, 8, 32, 32, generator=gen, requires_grad=True)
    xy = torch.rand(64, 2, generator=gen) * 100
    rois = torch.cat([torch.randint(0, 2, (64, 1), generator=gen).float(), xy,
                      xy + 2 + torch.rand(64, 2, generator=gen) * 30], dim=1)  # 2-32 px boxes
    outs = []
    for use_torchvision in (False, True):
        out = RoIAlign(7, 0.25, 0, aligned=True, use_torchvision=use_torchvision)(feat, rois)
        grad, = torch.autograd.grad((out * out).sum(), feat)
        outs.append((out, grad))
    (a, ga), (b, gb) = outs
    assert torch.allclose(a, b, atol=1e-6) and torch.allclose(ga, gb, atol=1e-5)
    assert a.abs().sum() > 0 and ga.abs().sum() > 0
