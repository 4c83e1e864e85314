import torch

from torchbearer_colorize.models import SmallColorizer, build_model


def test_small_colorizer_maps_gray_256_to_colour_256_through_a_64x32x32_bottleneck():
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
