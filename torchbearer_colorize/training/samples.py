"""The test images a run's sample grid shows (the same ones for every run) and its predictions for them."""
import numpy as np
import torch


def sample_indices(n, k=8, groups=None):
    """``k`` test images spread evenly over the test split (the same ones for every run); given ``groups``
    (``TaskData.test_groups``: per painter), as many from each group, spread evenly over it, in turn."""
    if not groups:
        return np.unique(np.linspace(0, n - 1, min(k, n)).round().astype(int)).tolist()
    picked = [[members[i] for i in sample_indices(len(members), k // len(groups))] for members in groups.values()]
    return [i for layer in zip(*picked) for i in layer]


def sample_rows(model, dataset, device, labels, groups=None):
    """Rows of a sample grid: inputs, predictions and (given a third label) targets."""
    inputs, targets = zip(*(dataset[i] for i in sample_indices(len(dataset), groups=groups)))
    inputs, targets = torch.stack(inputs), torch.stack(targets)
    with torch.no_grad():
        predictions = model(inputs.to(device)).cpu()
    return list(zip(labels, (inputs.numpy(), predictions.numpy(), targets.numpy())))
