"""What a run shows of its epochs: ``log.csv`` and the progress bar, the same whether or not it was resumed."""
import torchbearer
from torchbearer.callbacks import CSVLogger, Tqdm


class EpochLog(CSVLogger):
    """torchbearer's CSVLogger, a row per epoch, without its running means (``running_*``): they average a window
    of the last 50 batches, across epochs, which a resumed run starts empty, so they would differ from the
    unbroken run's. Every other column (the epoch's mean train loss, the test loss) is the same."""

    def _get_field_dict(self, state):
        return {key: value for key, value in super()._get_field_dict(state).items()
                if not str(key).startswith("running_")}


class EpochBar(Tqdm):
    """torchbearer's one-bar-per-run progress (``verbose=1``) that counts a resumed run's finished epochs once:
    torchbearer's starts at them and then adds one (a 4-epoch run resumed after epoch 1 ended at "5/4")."""

    def __init__(self):
        super().__init__(on_epoch=True)

    def on_start(self, state):
        self._loader = self.tqdm_module(initial=len(state[torchbearer.HISTORY]), total=state[torchbearer.MAX_EPOCHS],
                                        **self.tqdm_args)
