"""CIE Lab (D65, 2 degrees, sRGB): the same formulas as ``skimage.color``, re-done in torch so that targets,
decoding and measures run batched on any device; the tests check them against skimage."""
import torch
from skimage.color import colorconv

# skimage's constants, so that the torch conversions match skimage.color exactly
_XYZ_FROM_RGB = torch.tensor(colorconv.xyz_from_rgb, dtype=torch.float64)
_RGB_FROM_XYZ = torch.tensor(colorconv.rgb_from_xyz, dtype=torch.float64)
_WHITE = torch.tensor(colorconv.xyz_tristimulus_values(illuminant="D65", observer="2"), dtype=torch.float64)


def _mix(matrix, x):
    """``matrix`` (3 x 3) applied to the channels (dim 1) of an N x 3 x ... tensor."""
    return torch.einsum("ij,nj...->ni...", matrix.to(x), x)


def _channels(vector, x):
    return vector.to(x).reshape(1, 3, *([1] * (x.dim() - 2)))


def srgb_to_linear(rgb):
    return torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)


def linear_to_srgb(linear):
    return torch.where(linear > 0.0031308, 1.055 * linear.clamp(min=0.0031308) ** (1 / 2.4) - 0.055,
                       12.92 * linear)


def rgb_to_lab(rgb):
    """sRGB in [0, 1], N x 3 x ... -> Lab (L in [0, 100]), as ``skimage.color.rgb2lab``."""
    xyz = _mix(_XYZ_FROM_RGB, srgb_to_linear(rgb)) / _channels(_WHITE, rgb)
    f = torch.where(xyz > 0.008856, xyz.clamp(min=0.008856) ** (1 / 3), 7.787 * xyz + 16 / 116)
    fx, fy, fz = f[:, 0], f[:, 1], f[:, 2]
    return torch.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], dim=1)


def lab_to_linear_rgb(lab):
    """Lab -> linear RGB, not clipped: a colour is in the sRGB gamut iff all three lie in [0, 1]."""
    fy = (lab[:, 0] + 16) / 116
    f = torch.stack([fy + lab[:, 1] / 500, fy, (fy - lab[:, 2] / 200).clamp(min=0)], dim=1)  # skimage clips z
    xyz = torch.where(f > 0.2068966, f ** 3, (f - 16 / 116) / 7.787) * _channels(_WHITE, lab)
    return _mix(_RGB_FROM_XYZ, xyz)


def lab_to_rgb(lab):
    """Lab, N x 3 x ... -> sRGB clipped to [0, 1], as ``skimage.color.lab2rgb``."""
    return linear_to_srgb(lab_to_linear_rgb(lab)).clamp(0, 1)


def gray_lightness(gray):
    """L of a gray image in [0, 1] read as the RGB colour (g, g, g): a monotone function of ``g``.

    The model's input is ``rgb2gray``'s gray; decoding joins the predicted ab with this L, so a
    prediction of ab = 0 gives back exactly the gray copy."""
    return rgb_to_lab(gray.expand(-1, 3, *gray.shape[2:]))[:, :1]
