"""Reproduce, with torchbearer, a homework report on colorizing autoencoders and a beta-VAE."""

__version__ = "0.1.0"
