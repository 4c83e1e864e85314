"""Colorize your own photos with a trained colorizer.

    tbc-colorize PHOTO... [--checkpoint runs/<run>/model.pt] [--out DIR]
    (the same: python -m torchbearer_colorize.colorize PHOTO...)

Any size, any image mode: colour photos are made gray first (``skimage.color.rgb2gray``, as in
training). The model sees the photo at 256 x 256; its colour (the Lab ab channels of its prediction)
is upsampled to the photo's size and put onto the photo's own full-resolution lightness, so the
detail of the original is kept. Outputs are ``<stem>_colorized.png`` in ``--out``, written
atomically; an input is never overwritten.

Without ``--checkpoint`` the U-net colorizer that ships with the package is used (trained on the built-in
paintings, Monet and Van Gogh: muted, sepia-leaning colour). Checkpoints are the ``model.pt`` files every
experiment saves per run (it prints their paths): the small, deep and U-net colorizers and the colour-classification model. The denoiser, the VAE and
the inception decoder (whose frozen encoder is not stored) are not colorizers and are refused.
"""
import argparse
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from skimage.color import gray2rgb, lab2rgb, rgb2gray, rgb2lab
from skimage.transform import resize

from .atomic import atomic_path
from .data.images import to_rgb
from .errors import UserError
from .models import build_model
from .pretrained import bundled_info, describe, load_bundled
from .training.cli import device as device_arg
from .training.cli import check_bf16, user_errors_exit, writable_folder
from .training.runs import resolve_device
from .training.store import load_saved, weights

MODEL_SIZE = 256
NOT_COLORIZERS = {"vae": "a VAE reconstructs colour images; it does not colorize",
                  "inception_decoder": "the inception decoder's frozen encoder is not stored in its checkpoint; "
                                       "use a small, deep, unet or small_classes checkpoint"}


class Colorizer:
    """A trained colorizer that maps a photo of any size to a colorized photo of the same size."""

    def __init__(self, model, device="cpu", bf16=False):
        """``bf16``: the model runs under bf16 autocast (``--bf16``; faster where the device has native bf16,
        colours within a few levels of fp32's); the default is fp32."""
        self.device, self.bf16 = torch.device(device), bf16
        self.model = model.to(self.device).eval()
        self.predict = getattr(self.model, "predict_rgb", self.model)  # the classification model decodes itself

    def __call__(self, image):
        """``image``: a PIL image or an H x W x 3 (or H x W) uint8 array -> H x W x 3 uint8 array."""
        rgb = np.asarray(to_rgb(image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image))))
        gray = rgb2gray(rgb)  # H x W in [0, 1], the training input's definition
        # the model's input is made as in training: bicubic to 256 x 256, then rgb2gray
        small = rgb2gray(np.asarray(Image.fromarray(rgb).resize((MODEL_SIZE, MODEL_SIZE), Image.Resampling.BICUBIC)))
        with torch.no_grad(), torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            batch = torch.from_numpy(small).float()[None, None].to(self.device)
            predicted = self.predict(batch)[0].float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()
        ab = resize(rgb2lab(predicted)[..., 1:], gray.shape, order=1)  # colour only, upsampled
        lightness = rgb2lab(gray2rgb(gray))[..., :1]  # the photo's own full-resolution L
        with warnings.catch_warnings():
            # a saturated predicted colour on a dark pixel of the photo can lie outside what Lab reaches: skimage
            # clips its Z to 0 (the nearest colour there is) and warns each time; the clipping is what we want
            warnings.filterwarnings("ignore", message="Conversion from CIE-LAB", category=UserWarning)
            color = lab2rgb(np.concatenate([lightness, ab], axis=-1))
        return (color * 255 + 0.5).clip(0, 255).astype(np.uint8)


def load_colorizer(path=None, device="cpu", bf16=False):
    """The :class:`Colorizer` stored in an experiment's ``model.pt`` (None: the bundled U-net colorizer,
    :mod:`..pretrained`); a clear error for anything else."""
    if path is None:
        return Colorizer(load_bundled()[0], device, bf16)
    path = Path(path)
    if not path.is_file():
        raise UserError(f"--checkpoint {path} does not exist: give a model.pt that an experiment saved "
                        "(each experiment prints its checkpoints' paths)")
    try:  # any other file fails in torch.load in its own way (KeyError, IndexError, UnpicklingError, ...)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            saved = load_saved(path)
    except Exception:
        saved = None
    if (not isinstance(saved, dict) or not {"model", "model_kwargs", "state_dict"} <= saved.keys()
            or not isinstance(saved["model_kwargs"], dict)):
        raise UserError(f"--checkpoint {path} is not a checkpoint saved by this package: "
                        "expected a model.pt that an experiment wrote (each prints their paths)")
    name, kwargs = saved["model"], saved["model_kwargs"]
    if name in NOT_COLORIZERS or kwargs.get("in_channels", 1) != 1:
        reason = NOT_COLORIZERS.get(name, "it takes colour images in (the denoiser), not gray ones")
        raise UserError(f"--checkpoint {path} holds a {name!r} model, not a colorizer: {reason}")
    try:
        model = build_model(name, **kwargs)
        model.load_state_dict(weights(saved))  # float16 and 8-bit tensors too (store.save_model)
    except (ValueError, RuntimeError, TypeError) as err:
        raise UserError(f"--checkpoint {path}: cannot rebuild its model ({str(err)[:200]})") from None
    return Colorizer(model, device, bf16)


def read_photo(path):
    """Decode ``path`` fully and upright (its EXIF orientation applied, as in training), or a clear error."""
    try:
        with Image.open(path) as img:
            img.load()
            return ImageOps.exif_transpose(img)
    except FileNotFoundError:
        raise UserError(f"{path} does not exist") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise UserError(f"{path} cannot be read as an image ({type(err).__name__}); give a jpg, png, bmp, "
                        "webp or tif file") from None


def parser():
    p = argparse.ArgumentParser(prog="tbc-colorize", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photos", nargs="+", type=Path, metavar="PHOTO", help="image files (colour ones are made gray)")
    p.add_argument("--checkpoint", type=Path, default=None,
                   help="a model.pt saved by an experiment (default: the bundled U-net colorizer)")
    p.add_argument("--out", type=Path, default=Path("colorized"), help="output folder (default: colorized/)")
    p.add_argument("--device", type=device_arg, default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    p.add_argument("--bf16", action="store_true",
                   help="bf16 inference (autocast), on a GPU or a CPU with native bf16 (AVX512-BF16, AMX; refused "
                        "elsewhere): faster there, colours a little different from the default fp32")
    return p


@user_errors_exit
def main(argv=None):
    args = parser().parse_args(argv)
    check_bf16(args)
    # everything is checked before any work: no half-finished batch of outputs. Photos are decoded here
    # and again when colorized, so that only one is held in memory at a time.
    for path in args.photos:
        read_photo(path)
    targets = [args.out / f"{path.stem}_colorized.png" for path in args.photos]
    for target in targets:
        if target.exists() and any(target.samefile(path) for path in args.photos):  # links too
            raise UserError(f"{target} is an input photo and would be overwritten: choose another --out")
    if len(set(targets)) < len(targets):
        raise UserError("two photos share a file name stem, so their outputs would collide: colorize them "
                        "into different --out folders")
    colorizer = load_colorizer(args.checkpoint, resolve_device(args.device), args.bf16)
    print(f"colorizing with {args.checkpoint or describe(bundled_info())}{', bf16 autocast' if args.bf16 else ''}")
    writable_folder("--out", args.out)
    for path, target in zip(args.photos, targets):
        photo = read_photo(path)
        colorized = Image.fromarray(colorizer(photo))
        if "A" in photo.mode or "transparency" in photo.info:  # the photo's own transparency is kept
            colorized.putalpha(photo.convert("RGBA").getchannel("A"))
        with atomic_path(target) as tmp:
            colorized.save(tmp, format="PNG")
        print(f"{path} -> {target}")


if __name__ == "__main__":
    main()
