"""Frozen-encoder features, computed once per data set and weights and reused every epoch."""
import time

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .cache import cached_array, fingerprint

FEATURE_VERSION = 1


def encode(encoder, dataset, batch_size=32, device="cpu", log=print):
    """``encoder`` applied to the input of every item of ``dataset``, as an N x F float32 array."""
    encoder = encoder.to(device, memory_format=torch.channels_last)
    outputs, start = [], time.perf_counter()
    with torch.no_grad():
        for inputs, _ in DataLoader(dataset, batch_size=batch_size):
            outputs.append(encoder(inputs.to(device)).float().cpu())
            done = sum(len(o) for o in outputs)
            if log and (len(outputs) % 10 == 0 or done == len(dataset)):
                log(f"  encoded {done}/{len(dataset)} images ({done / (time.perf_counter() - start):.1f}/s)")
    return torch.cat(outputs).numpy()


def cached_features(encoder, dataset, data_fingerprint, cache_dir, split, device="cpu", log=print):
    """Features of ``dataset`` under ``encoder``, from the cache when this data set and these weights
    were encoded before (the key holds both, so stale features are never reused)."""
    key = fingerprint(FEATURE_VERSION, data_fingerprint, split, encoder.weights_id)

    def build():
        log(f"encoding the {split} split with the frozen encoder ({encoder.weights_id}); cached for later runs")
        return encode(encoder, dataset, device=device, log=log), {"weights": encoder.weights_id}

    features, _ = cached_array(cache_dir, f"features-{split}", key, build)
    return torch.from_numpy(np.ascontiguousarray(features))


class FeatureDataset(Dataset):
    """Items ``(feature vector, target)``: what the decoder trains on when the encoder is frozen.

    ``features`` is the N x F tensor, or a function that gives it, called when an item is first read: a
    stored run that is reused never reads one, so a fresh clone regenerates the report without encoding."""

    def __init__(self, features, targets):
        self._features, self.targets = features, targets

    @property
    def features(self):
        if callable(self._features):
            self._features = self._features()
        return self._features

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        return self.features[index], self.targets[index][1]
