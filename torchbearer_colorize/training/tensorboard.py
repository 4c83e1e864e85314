"""``--tensorboard DIR``: torchbearer's TensorBoard callback on every run trained, writing to ``DIR/<run folder>``
(layout: docs/options.md, TensorBoard). Writing needs tensorboardX
(``cli.require_tensorboard``)."""
import torch
import torchbearer
from torchbearer.callbacks import TensorBoard
from torchvision.utils import make_grid

from .samples import sample_rows


class RunTensorBoard(TensorBoard):
    """torchbearer's TensorBoard callback, plus once per epoch an image ``samples``: the sample grid's rows.

    It writes into ``log_dir`` itself, not torchbearer's ``log_dir/<model class>_<comment>`` (the class would be
    ``TrialModel`` under ``--compile``), with its own writer (torchbearer drops a writer that two callbacks
    share). No graph: tracing one draws random numbers, which would shift the VAE's noise."""

    def __init__(self, log_dir, model, data, device):
        super().__init__(str(log_dir), write_graph=False, write_batch_metrics=True, write_epoch_metrics=True)
        self.model, self.data, self.device = model, data, device

    def on_start(self, state):
        self.writer = self.get_writer()

    def on_end_epoch(self, state):
        super().on_end_epoch(state)
        model, data, training = self.model, self.data, self.model.training
        shown = (data.display_model(model) if data.display_model is not None else model).to(self.device).eval()
        try:  # the model as trained so far, in eval mode, then back to training
            rows = sample_rows(shown, data.display if data.display is not None else data.test, self.device,
                               data.row_labels, data.test_groups)
        finally:
            model.train(training)
        images = torch.cat([torch.as_tensor(images).expand(-1, 3, -1, -1) for _, images in rows]).clamp(0, 1)
        self.writer.add_image("samples", make_grid(images, nrow=len(rows[0][1])), state[torchbearer.EPOCH])
