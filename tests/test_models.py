import torch

from torchbearer_colorize.models import SmallColorizer, build_model


def test_small_colorizer_maps_gray_256_to_color_256_through_a_64x32x32_bottleneck():
    model = SmallColorizer()
    x = torch.rand(2, 1, 256, 256)
    assert model.encoder(x).shape == (2, 64, 32, 32)
    y = model(x)
    assert y.shape == (2, 3, 256, 256)
    assert 0 <= y.min() and y.max() <= 1


def test_small_colorizer_takes_three_channels_for_denoising():
    assert build_model("small", in_channels=3)(torch.rand(1, 3, 256, 256)).shape == (1, 3, 256, 256)


def test_unknown_model_names_the_known_ones():
    try:
        build_model("huge")
    except ValueError as err:
        assert "small" in str(err)
    else:
        raise AssertionError("no error for an unknown model")


import pytest  # noqa: E402
from torch import nn  # noqa: E402
from torchbearer import Trial  # noqa: E402

from torchbearer_colorize.models import (DeepColorizer, InceptionColorizer, InceptionDecoder,  # noqa: E402
                                         UNetColorizer, load_encoder)
from torchbearer_colorize.errors import UserError  # noqa: E402


@pytest.mark.parametrize("model, bottleneck", [(DeepColorizer(), (1, 64, 8, 8)), (UNetColorizer(), None)])
def test_deep_and_unet_map_256_to_256(model, bottleneck):
    x = torch.rand(1, 1, 256, 256)
    assert model(x).shape == (1, 3, 256, 256)
    if bottleneck:
        assert model.encoder(x).shape == bottleneck


def test_unet_uses_one_skip_module_for_both_skips():
    model = UNetColorizer()
    calls = []
    model.skip.register_forward_hook(lambda module, inputs, output: calls.append(output.shape[-1]))
    model(torch.rand(1, 1, 256, 256))
    assert calls == [64, 128]


def test_inception_decoder_makes_256_from_2048():
    decoder = InceptionDecoder()
    assert decoder(torch.rand(2, 2048)).shape == (2, 3, 256, 256)
    assert sum(isinstance(m, nn.ConvTranspose2d) for m in decoder.modules()) == 6


@pytest.fixture(scope="module")
def random_encoder():
    return load_encoder(None, seed=0)


def test_frozen_encoder_is_unchanged_by_a_training_step(random_encoder):
    model = InceptionColorizer(random_encoder, InceptionDecoder())
    before = {k: v.clone() for k, v in random_encoder.state_dict().items()}
    decoder_before = [p.clone() for p in model.decoder.parameters()]
    x, y = torch.rand(2, 1, 256, 256), torch.rand(2, 3, 256, 256)
    trial = Trial(model, torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-2),
                  nn.MSELoss(), verbose=0).with_train_data(x, y, batch_size=2)
    trial.run(1)
    assert not any(p.requires_grad for p in random_encoder.parameters())
    for key, value in random_encoder.state_dict().items():  # weights and batch-norm statistics alike
        assert torch.equal(value, before[key]), key
    assert any(not torch.equal(a, b) for a, b in zip(model.decoder.parameters(), decoder_before))
    assert model.encoder(torch.rand(1, 1, 100, 60)).shape == (1, 2048)  # any input size: resized to 299


def test_encoder_weights_load_from_a_state_dict_file(random_encoder, tmp_path):
    from torchbearer_colorize.models.inception import bare_inception
    net = bare_inception()
    torch.manual_seed(1)
    for p in net.parameters():
        nn.init.normal_(p, std=0.01)
    torch.save(net.state_dict(), tmp_path / "weights.pth")
    encoder = load_encoder(tmp_path / "weights.pth")
    assert encoder.weights_id.startswith("file-")
    assert torch.equal(encoder.net.Conv2d_1a_3x3.conv.weight, net.Conv2d_1a_3x3.conv.weight)
    with pytest.raises(UserError, match="does not exist"):
        load_encoder(tmp_path / "missing.pth")
    torch.save({"not": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(UserError, match="not an inception_v3 state dict"):
        load_encoder(tmp_path / "bad.pth")


def test_offline_without_cached_weights_says_how_to_get_them(monkeypatch):
    import urllib.error

    from torchbearer_colorize.models import inception

    def offline(**kwargs):
        raise urllib.error.URLError("Name or service not known")
    monkeypatch.setattr(inception.PRETRAINED, "get_state_dict", offline, raising=False)
    with pytest.raises(UserError, match="--no-pretrained") as err:
        load_encoder("pretrained")
    assert "--weights" in str(err.value) and "TORCH_HOME" in str(err.value)


def test_random_encoder_batchnorm_calibration_keeps_features_normalised():
    from torchbearer_colorize.models.inception import calibrate_batchnorm
    encoder = load_encoder(None, seed=3)
    x = torch.rand(4, 1, 64, 64)  # resized to 299 x 299 inside: each image costs a full inception pass
    weights = {k: v.clone() for k, v in encoder.state_dict().items() if "running" not in k and "num_batches" not in k}
    with torch.no_grad():
        assert encoder(x[:1]).abs().mean() > 1e3  # uncalibrated: activations explode through the layers
        calibrate_batchnorm(encoder, x, batch_size=2)  # two batches: the statistics average over both
        features = encoder(x)
    assert torch.isfinite(features).all() and features.abs().mean() < 10
    assert not encoder.net.training and encoder.weights_id == "random-seed3-bn4"
    for key, value in weights.items():
        assert torch.equal(encoder.state_dict()[key], value), key


def test_stored_batchnorm_statistics_are_read_back_instead_of_recomputed(tmp_path, monkeypatch):
    from torchbearer_colorize.models import inception
    x, stored = torch.rand(4, 1, 64, 64), tmp_path / "encoders" / "bn.pt"
    first = inception.calibrate_batchnorm(load_encoder(None, seed=3), x, stored, batch_size=2)
    assert stored.is_file()
    calls = []
    again = load_encoder(None, seed=3)
    monkeypatch.setattr(again, "forward", lambda *a: calls.append(a))  # a pass over the images would show here
    inception.calibrate_batchnorm(again, x, stored, batch_size=2)
    assert not calls and again.weights_id == first.weights_id == "random-seed3-bn4"
    for key, value in first.state_dict().items():
        assert torch.equal(again.state_dict()[key], value), key
    monkeypatch.undo()
    with torch.no_grad():
        assert torch.equal(again(x[:1]), first(x[:1]))  # every statistic is compared above; one image shows use
