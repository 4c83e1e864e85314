"""Colorize your own photos with a trained colorizer.

    tbc-colorize PHOTO_OR_FOLDER... [--checkpoint runs/<run>/model.pt] [--out DIR] [--force]
    (the same: python -m torchbearer_colorize.colorize PHOTO_OR_FOLDER...)

Any size, any image mode: colour photos are made gray first (``skimage.color.rgb2gray``, as in
training). The model sees the photo at 256 x 256; its colour (the Lab ab channels of its prediction)
is upsampled to the photo's size and put onto the photo's own full-resolution lightness, so the
detail of the original is kept. Outputs are ``<stem>_colorized.png`` in ``--out``, written
atomically; an input is never overwritten.

A folder is searched recursively: its files with an image extension (.jpg, .png, .bmp, .webp, .tif, any case)
are colorized into the same sub-folders under ``--out``; its other files, and any file that cannot be read as
an image, are skipped with one line naming them (hidden files and the --out folder are left out). An output
that exists already is kept (a rerun goes on where the last one stopped) unless --force. Exit status: 0 when
every photo was colorized or kept, 1 when some files were skipped (the others are done), 2 for a usage
error (a missing path, a bad checkpoint, two photos with one output, an output onto an input), before any work.

Without ``--checkpoint`` the colorizer that ships with the package is used: the a*b* regression of the colour
classification's ablation, whose colour alone scored best on the built-in test paintings (trained on them, Monet
and Van Gogh: muted, olive-sepia colour). Checkpoints are the ``model.pt`` files every
experiment saves per run (it prints their paths): the small, deep and U-net colorizers and the colour-classification
ablation's models. The denoiser, the VAE and the inception decoder (whose frozen encoder is not stored) are not colorizers and
are refused.
"""
import argparse
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from skimage.color import gray2rgb, lab2rgb, rgb2gray, rgb2lab
from skimage.transform import resize
from tqdm import tqdm

from .atomic import atomic_path
from .data.images import IMAGE_EXTENSIONS, to_rgb
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
                                       "use a small, deep, unet, small_ab or small_classes checkpoint"}


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
    """The :class:`Colorizer` stored in an experiment's ``model.pt`` (None: the bundled colorizer,
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


def find_inputs(paths, out):
    """``(photos, others)``: ``photos`` the ``[(input, output)]`` to colorize, ``others`` the files found in folders
    that are not images by their extension. A file argument is taken whatever its name; a folder is searched
    recursively (hidden files and ``out`` left out) and its sub-folders are kept under ``out``."""
    photos, others, out_at = [], [], out.resolve()
    for path in paths:
        if path.is_file():
            photos.append((path, out / f"{path.stem}_colorized.png"))
            continue
        if not path.is_dir():
            raise UserError(f"{path} does not exist: give image files or folders of them")
        if path.resolve().is_relative_to(out_at):
            raise UserError(f"--out {out} holds the folder {path}, whose outputs would be taken as inputs next time: "
                            "choose an --out outside it")
        for file in sorted(path.rglob("*"), key=lambda p: p.relative_to(path).as_posix()):
            relative = file.relative_to(path)
            if (not file.is_file() or any(part.startswith(".") for part in relative.parts)
                    or file.resolve().is_relative_to(out_at)):
                continue
            if file.suffix.lower() in IMAGE_EXTENSIONS:
                photos.append((file, out / relative.parent / f"{file.stem}_colorized.png"))
            else:
                others.append(file)
    return photos, others


def check_outputs(photos, others):
    """A clear error, before any work, when two photos share an output or an output is an input (links too)."""
    inputs = {(st.st_dev, st.st_ino) for st in (os.stat(path) for path in [p for p, _ in photos] + others)}
    first = {}
    for path, target in photos:
        if target in first:
            raise UserError(f"{first[target]} and {path} would both be written to {target}: rename one, or "
                            "colorize them into different --out folders")
        first[target] = path
        if target.exists() and (os.stat(target).st_dev, os.stat(target).st_ino) in inputs:
            raise UserError(f"{target} is an input photo and would be overwritten: choose another --out")


def parser():
    p = argparse.ArgumentParser(prog="tbc-colorize", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photos", nargs="+", type=Path, metavar="PHOTO_OR_FOLDER",
                   help="image files, or folders searched recursively (colour photos are made gray)")
    p.add_argument("--checkpoint", type=Path, default=None,
                   help="a model.pt saved by an experiment (default: the bundled colorizer)")
    p.add_argument("--out", type=Path, default=Path("colorized"), help="output folder (default: colorized/)")
    p.add_argument("--force", action="store_true", help="rewrite outputs that exist (default: keep them)")
    p.add_argument("--device", type=device_arg, default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    p.add_argument("--bf16", action="store_true",
                   help="bf16 inference (autocast), on a GPU or a CPU with native bf16 (AVX512-BF16, AMX; refused "
                        "elsewhere): faster there, colours a little different from the default fp32")
    return p


@user_errors_exit
def main(argv=None):
    args = parser().parse_args(argv)
    check_bf16(args)
    # everything is checked before any work: which files, where each output goes, that none lands on an input
    photos, others = find_inputs(args.photos, args.out)
    check_outputs(photos, others)
    colorizer = load_colorizer(args.checkpoint, resolve_device(args.device), args.bf16)
    print(f"colorizing with {args.checkpoint or describe(bundled_info())}{', bf16 autocast' if args.bf16 else ''}")
    writable_folder("--out", args.out)
    skipped = [f"{path} is not an image ({path.suffix or 'no extension'})" for path in others]
    for line in skipped:
        print(f"skipped: {line}", file=sys.stderr)
    done, kept = 0, 0
    for path, target in tqdm(photos, unit="photo", file=sys.stderr, disable=len(photos) < 2):
        if target.exists() and not args.force:
            kept += 1
            continue
        try:
            photo = read_photo(path)
        except UserError as err:
            skipped.append(str(err))
            tqdm.write(f"skipped: {err}", file=sys.stderr)
            continue
        colorized = Image.fromarray(colorizer(photo))
        if "A" in photo.mode or "transparency" in photo.info:  # the photo's own transparency is kept
            colorized.putalpha(photo.convert("RGBA").getchannel("A"))
        with atomic_path(target) as tmp:
            colorized.save(tmp, format="PNG")
        done += 1
        tqdm.write(f"{path} -> {target}")
    if len(photos) + len(others) > 1 or kept or skipped:
        print(f"{done} colorized into {args.out}, {kept} kept (there already; --force rewrites them), "
              f"{len(skipped)} skipped (not images)")
    if skipped:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
