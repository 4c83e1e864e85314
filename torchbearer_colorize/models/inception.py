"""The report's frozen, ImageNet-pretrained inception_v3 encoder with a transposed-convolution decoder."""
import hashlib
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F
from torchvision.models import Inception_V3_Weights, inception_v3

from ..atomic import atomic_path
from ..errors import UserError
from .colorizers import up

INPUT_SIZE = 299
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
FEATURES = 2048
PRETRAINED = Inception_V3_Weights.IMAGENET1K_V1


class InceptionEncoder(nn.Module):
    """Gray N x 1 x H x W in [0, 1] -> the pooled 2048-value inception_v3 feature vector. Frozen.

    As the report does: the gray image is replicated to 3 channels, resized to 299 x 299 and
    normalized with ImageNet's mean and std; inception's last layer (``fc``) is removed.
    """

    def __init__(self, net, weights_id):
        super().__init__()
        net.fc = nn.Identity()
        net.aux_logits, net.AuxLogits = False, None
        self.net = net.eval().requires_grad_(False)
        self.weights_id = weights_id  # identifies the weights in feature-cache keys and run settings
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def train(self, mode=True):
        return super().train(False)  # frozen means batch-norm statistics too

    def forward(self, gray):
        x = F.interpolate(gray.expand(-1, 3, -1, -1), size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear",
                          align_corners=False, antialias=False)
        return self.net((x - self.mean) / self.std)


class InceptionDecoder(nn.Module):
    """2048 -> 3 x 256 x 256 with 6 transposed convolutions (2048->64->32->32->32->32->3):
    an 8x8 kernel makes the 1 x 1 vector 8 x 8, five 4x4 stride-2 layers double it to 256."""

    def __init__(self, features=FEATURES):
        super().__init__()
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(features, 64, 8), nn.ReLU(inplace=True),
            up(64, 32), up(32, 32), up(32, 32), up(32, 32), up(32, 3, last=True))

    def forward(self, features):
        return self.decoder(features.reshape(features.shape[0], -1, 1, 1))


class InceptionColorizer(nn.Module):
    """Encoder and decoder together: gray 1 x H x W -> colour 3 x 256 x 256."""

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, gray):
        return self.decoder(self.encoder(gray))


def calibrate_batchnorm(encoder, gray_images, stored=None, batch_size=32):
    """Set a randomly initialised encoder's batch-norm statistics from ``gray_images``, then freeze.

    A fresh inception_v3 in eval mode normalises with running mean 0 and variance 1, so its
    activations grow layer by layer (pooled features reach ~1e10 and the decoder cannot learn).
    Estimating the statistics on the training images, as a training pass would, keeps every layer
    normalised; the weights themselves stay random and frozen. ``stored``: a file of the statistics,
    read when it exists (a reuse then costs no pass over the images), else written once computed.
    """
    norms = {name: m for name, m in encoder.net.named_modules() if isinstance(m, nn.BatchNorm2d)}
    if stored is not None and Path(stored).is_file():
        statistics = torch.load(stored, map_location="cpu", weights_only=True)
        for name, norm in norms.items():
            for key in ("running_mean", "running_var", "num_batches_tracked"):
                getattr(norm, key).copy_(statistics[f"{name}.{key}"])
    else:
        for norm in norms.values():
            norm.reset_running_stats()
            norm.momentum = None  # a cumulative average over all calibration batches
            norm.training = True
        with torch.no_grad():
            for start in range(0, len(gray_images), batch_size):
                encoder(gray_images[start:start + batch_size])
        for norm in norms.values():
            norm.training = False
        if stored is not None:
            with atomic_path(stored) as tmp:
                torch.save({f"{name}.{key}": getattr(norm, key) for name, norm in norms.items()
                            for key in ("running_mean", "running_var", "num_batches_tracked")}, tmp)
    encoder.weights_id += f"-bn{len(gray_images)}"
    return encoder


def bare_inception():
    """An untrained inception_v3 with the pretrained checkpoint's architecture (aux head included, so
    its state dict loads strictly): the shape a ``--weights`` file must have."""
    return inception_v3(weights=None, aux_logits=True, transform_input=True, init_weights=False)


def load_encoder(weights="pretrained", seed=0):
    """The frozen encoder: ``'pretrained'`` (torchvision's ImageNet weights, cached in
    ``$TORCH_HOME``), a path to a state-dict file, or ``None`` for random weights seeded by ``seed``."""
    if weights is None:
        torch.manual_seed(seed)
        net = inception_v3(weights=None, aux_logits=True, transform_input=True, init_weights=True)
        return InceptionEncoder(net, f"random-seed{seed}")
    net = bare_inception()
    if weights == "pretrained":
        try:
            state = PRETRAINED.get_state_dict(progress=True, check_hash=True)
        except (OSError, RuntimeError) as err:  # URLError is an OSError; a bad hash a RuntimeError
            raise UserError(
                f"could not get the pretrained inception_v3 weights ({err}). On a machine with network, "
                "run: python -c \"import torchvision; torchvision.models.inception_v3(weights='IMAGENET1K_V1')\" "
                f"and copy $TORCH_HOME/hub/checkpoints/{Path(PRETRAINED.url).name} to the same place here, "
                "or pass --weights FILE (a state dict), or --no-pretrained for a random frozen encoder"
            ) from None
        net.load_state_dict(state)
        return InceptionEncoder(net, "IMAGENET1K_V1")
    path = Path(weights).expanduser()
    if not path.is_file():
        raise UserError(f"--weights {path} does not exist: give a state-dict file of torchvision's inception_v3")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        state = state.get("state_dict", state)
        net.load_state_dict(state)
    except Exception as err:  # noqa: BLE001 - any failure here means the same thing to the user
        raise UserError(f"--weights {path} is not an inception_v3 state dict ({type(err).__name__}: "
                        f"{str(err)[:200]})") from None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return InceptionEncoder(net, f"file-{digest}")
