"""What ``--compile``, ``--bf16``, a GPU and torchrun change in an experiment's one-process Trial, one line each."""
import contextlib
import inspect

import torch
import torchbearer
from torch import nn

from .. import distributed


def prepare(trial, device, *, channels_last=True, compile=False, bf16=False):
    """``trial``, an experiment's one-process Trial, made ready for ``device`` and returned."""
    device, model = torch.device(device), trial.state[torchbearer.MODEL]
    if channels_last:  # oneDNN convolves channels_last weights faster on the CPU; the arithmetic stays fp32
        model.to(memory_format=torch.channels_last)
    wrap = distributed.shard(trial, device) if distributed.active() else None  # torchrun: DDP, a slice per rank
    if device.type == "cuda":  # pinned batches, each copied while the GPU works on the previous one
        trial.with_generators(*(ToDevice(loader, device) for loader in (trial.state[torchbearer.TRAIN_GENERATOR],
                                                                        trial.state[torchbearer.VALIDATION_GENERATOR])))
    if compile or bf16 or wrap:
        trial.state[torchbearer.MODEL] = TrialModel(model, compile, device.type if bf16 else None, wrap)
    return trial.to(device)


def native_bf16():
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX), by oneDNN's own test; elsewhere bf16 is
    emulated, slower than fp32."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def bf16_refusal(device):
    """Why ``--bf16`` (bf16 autocast) cannot run on ``device``, in one line; None when it can: on a GPU, or on a
    CPU with native bf16 (:func:`native_bf16`)."""
    device = torch.device(device)
    if device.type == "cuda":
        return None if torch.cuda.is_available() else (f"--bf16 --device {device}: no CUDA device is available "
                                                       "here; use --device cpu on a CPU with native bf16, or no --bf16")
    if not native_bf16():
        return (f"--bf16 needs a GPU or a CPU with native bf16 (AVX512-BF16 or AMX); this CPU "
                f"({torch.backends.cpu.get_cpu_capability()}) would emulate it, slower than fp32: leave --bf16 out")
    return None


class TrialModel(nn.Module):
    """``model`` run through ``torch.compile``, bf16 autocast and/or a ``wrap`` (DDP), as a Trial needs it.

    torchbearer first calls ``model(x, state=state)``, where a compiled module fails and silently falls
    back to eager; this wrapper takes ``state`` itself: a model whose forward takes it (the VAE) gets a plain
    dict holding the entries it reads (``noise_key``'s) and returns it (:class:`StateAsOutput`, as DDP needs),
    its entries copied into torchbearer's state. Outputs are cast back to fp32; the state dict is the bare
    model's, so checkpoints load with or without the wrapper.
    """

    def __init__(self, model, compile=False, autocast_device=None, wrap=None):
        super().__init__()
        self.model = model
        self.takes_state = "state" in inspect.signature(model.forward).parameters
        self.reads = tuple(key for key in (getattr(model, "noise_key", None),) if key is not None)
        forward = StateAsOutput(model) if self.takes_state else model
        if wrap is not None:
            forward = wrap(forward)
        # a tuple keeps the compiled module out of the module tree (it shares ``model``'s parameters)
        self._forward = (torch.compile(forward) if compile else forward,)
        self.autocast_device = autocast_device

    def forward(self, x, state=None):
        cast = (torch.autocast(self.autocast_device, dtype=torch.bfloat16) if self.autocast_device
                else contextlib.nullcontext())
        with cast:
            if self.takes_state:
                given = {key: state[key] for key in self.reads if state is not None and key in state}
                y, extra = self._forward[0](x, given)
            else:
                y, extra = self._forward[0](x), {}
        extra = {key: value for key, value in extra.items() if key not in self.reads}
        if self.autocast_device:
            y = y.float()
            extra = {key: value.float() for key, value in extra.items()}
        if state is not None:
            state.update(extra)
        return y

    def state_dict(self, *args, **kwargs):
        return self.model.state_dict(*args, **kwargs)

    def load_state_dict(self, state_dict, *args, **kwargs):
        return self.model.load_state_dict(state_dict, *args, **kwargs)


class StateAsOutput(nn.Module):
    """A model whose ``forward(x, state)`` fills ``state``, as one that returns ``(y, state)``."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x, state):
        return self.model(x, state), state


class ToDevice:
    """``loader``'s batches pinned and copied to ``device`` without blocking the host, so the copy of one
    batch overlaps the device's work on the previous one; torchbearer's own ``.to(device)`` of the batch is
    then a no-op. Other attributes (``sampler``, ``dataset``) are the loader's."""

    def __init__(self, loader, device):
        self.loader, self.device = loader, torch.device(device)
        # read when iterated: a loader's setting that may change after it is built
        loader.pin_memory = self.device.type == "cuda"

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for batch in self.loader:
            yield tuple(item.to(self.device, non_blocking=True) for item in batch)

    def __getattr__(self, name):
        if name == "loader":  # not set yet (e.g. while unpickling)
            raise AttributeError(name)
        return getattr(self.loader, name)
