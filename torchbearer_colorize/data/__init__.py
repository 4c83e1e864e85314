"""Data: image folders and the built-in sets (``builtin``) -> cached uint8 arrays (``cache``) -> torch datasets
(``paintings``, ``fruits360``, ``noise``, ``features``)."""


def batch_used(batch_size, n_train):
    """The batch a run's steps took: ``batch_size``, or all ``n_train`` training images when they are fewer
    (the DataLoader's one short batch), saying so. The run's settings keep the batch size asked for."""
    return batch_size if n_train >= batch_size else f"{n_train} ({batch_size} asked)"
