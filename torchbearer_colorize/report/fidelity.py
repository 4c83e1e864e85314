"""Every place where the report is silent, ambiguous or wrong, and what the package does instead.

The one source of truth: ``docs/fidelity.md`` is rendered from it (``python -m torchbearer_colorize.fidelity``;
a test checks it is current), ``figures/REPORT.md`` embeds it, and each experiment's table lists the
topics that concern it.
"""
from dataclasses import dataclass

PAINTINGS = ("lr_sweep", "optimizers", "deep", "inception", "unet", "denoise")
COLORIZATION = ("lr_sweep", "optimizers", "deep", "inception", "unet")
EVERY = PAINTINGS + ("vae_fruits",)


@dataclass(frozen=True)
class Note:
    topic: str
    report: str  # what the report says ("—": nothing)
    code: str  # what the code does
    why: str
    experiments: tuple  # the experiments it concerns


NOTES = (
    Note(
        'paintings data set',
        '2024 old paintings, source not named',
        ('any folder tree of images (`--data-root`); without one, the built-in sample set: 2024 crops '
         'of nine photos that ship with scikit-image and matplotlib, labelled "built-in sample set, '
         'not the report\'s paintings" everywhere'),
        "the report's set is not public; the package must run offline on a fresh machine",
        PAINTINGS),
    Note(
        'built-in set split',
        '—',
        ("the last third of each photo's long side is held out; test crops come only from it, training"
         ' crops only from the rest; 1619 train / 405 test crops'),
        'train and test share no pixels, so the test loss measures generalisation',
        PAINTINGS),
    Note(
        'resizing',
        '"rescaled to 256 x 256"',
        ('PIL bicubic (antialiased) to exactly 256 x 256, aspect ratio not kept; JPEGs decoded at the '
         'smallest power-of-two scale still >= 256 (PIL `draft`)'),
        "the report's wording; `draft` makes decoding several times faster with no visible change at 256 px",
        PAINTINGS),
    Note(
        'image modes',
        '—',
        ('every PIL mode becomes RGB: alpha composited on white, palette/CMYK/gray converted, 16-bit '
         'and float rescaled (not clipped); EXIF orientation applied'),
        'real collections contain all of these',
        PAINTINGS),
    Note(
        'grayscale input',
        '`skimage.color.rgb2gray`',
        'the same, computed once per data set from the uint8 RGB image (float32 in [0, 1])',
        'faithful; computing it once saves work every epoch',
        COLORIZATION),
    Note(
        'train/test split',
        'not stated',
        '80 % / 20 % by a fixed permutation (seed 0, independent of `--seed`), at least one test image',
        'every seed of a run is scored on the same test images',
        PAINTINGS),
    Note(
        'small architecture',
        ('3 convolutions (32, 32, 64), 3 transposed convolutions; kernels, strides, padding, '
         'activation not stated'),
        ('conv 4x4 stride 2 padding 1 + ReLU (1->32->32->64), transposed conv 4x4 stride 2 padding 1 +'
         ' ReLU (64->32->32), last 32->3 with a sigmoid'),
        ('three stride-2 layers give the 64 x 32 x 32 bottleneck the report mentions; 4x4/2 transposed'
         ' convs avoid uneven overlap; sigmoid matches targets in [0, 1]'),
        ('lr_sweep', 'optimizers', 'unet', 'denoise')),
    Note(
        'loss',
        'MSE',
        '`nn.MSELoss()` (mean over pixels and batch)',
        "the report's numbers (~0.003) are per-pixel means",
        PAINTINGS),
    Note(
        'learning-rate sweep, run 3',
        'lr printed as 0.001 (a repeat of run 2), test 0.0438',
        'lr 0.01',
        "the sweep steps by factors of 10 and that run's far worse loss fits 0.01, not 0.001",
        ('lr_sweep',)),
    Note(
        'SGD and Adadelta',
        'lr 0.001, nothing else',
        '`torch.optim.SGD` without momentum, `torch.optim.Adadelta(lr=0.001)` with its other defaults',
        ("the report names no other setting; with Adadelta's usual lr 1.0 it would learn, the report's"
         ' numbers say it barely did'),
        ('optimizers',)),
    Note(
        'batch size',
        '32',
        ('32 (`--batch-size` to change); under torchrun the global batch, each step split over the processes'
         ' with the one-process gradient (README, "More than one device")'),
        'faithful; on N devices the table still means one batch of 32 per step, at the same learning rate',
        EVERY),
    Note(
        'train loss in the tables',
        '"train loss"',
        "torchbearer's epoch mean of the batch losses over the last epoch (the `loss` metric)",
        'what a torchbearer Trial prints and what the report copied',
        EVERY),
    Note(
        'test loss in the tables',
        '"test loss"',
        ("the model after the last epoch, evaluated on the test split (torchbearer's `val_loss` of the"
         ' last epoch, a mean over batches)'),
        "the report's table has one test number per run",
        EVERY),
    Note(
        'seeds',
        'not stated',
        ('`--seed` (default 0) fixes initialisation; shuffling and any other randomness are drawn from'
         ' (seed, epoch)'),
        'a resumed run repeats an unbroken one exactly',
        EVERY),
    Note(
        'memory format',
        '—',
        'weights in channels-last (NHWC) on by default, fp32 arithmetic unchanged',
        'about 1.5x faster on this CPU (oneDNN); results agree to printed precision',
        EVERY),
    Note(
        'deep architecture',
        ('5 convolutions (32, 32, 32, 32, 64) and 5 transposed convolutions (64, 32, 32, 32, 32); '
         'details not stated'),
        ('the same 4x4 stride-2 layers as the small net: 1->32->32->32->32->64 down to 64 x 8 x 8, '
         'then 64->32->32->32->32->3 with a sigmoid'),
        'the chain the issue fixes; five halvings give the "very small latent" the report blames for blur',
        ('deep',)),
    Note(
        'U-net skip module',
        'one `self.skip` used for both skips, its type not shown',
        "a shared 1x1 convolution 32->32, added after the decoder layer's ReLU, the forward exactly as printed",
        'both skipped tensors have 32 channels; a shared module is what the printed code implies',
        ('unet',)),
    Note(
        'inception encoder input',
        '299 x 299, ImageNet mean/std, pretrained, frozen',
        ('gray replicated to 3 channels, bilinear resize to 299, normalized with the ImageNet '
         "mean/std; torchvision's `transform_input=True` (as its pretrained model uses) then maps that"
         " to inception's own scaling; batch norm kept in eval mode"),
        'faithful; "frozen" includes the batch-norm statistics',
        ('inception',)),
    Note(
        'inception latent',
        'last layer replaced by the decoder; "much smaller latent"',
        'the pooled 2048-value vector (fc removed)',
        "the report's own reasoning points to it",
        ('inception',)),
    Note(
        'inception decoder',
        ('6 transposed convolutions, 64 (printed "63"), 32, 32, 32, 32, 32 channels; strides and '
         'output not stated'),
        ('2048->64 (8x8 kernel: 1x1 -> 8x8), then five 4x4 stride-2 layers 64->32->32->32->32->3 to '
         '256 x 256, sigmoid'),
        '"63" is a typo; the last layer must output 3 channels for the colour target',
        ('inception',)),
    Note(
        'inception random crops',
        'the report trained with random crops',
        "no crops: the frozen encoder's features are computed once per data set and weights and cached",
        ('a cache cannot reproduce random crops; without it the encoder costs 15-25 minutes per 10 '
         'epochs on this CPU'),
        ('inception',)),
    Note(
        'inception weights offline',
        '—',
        ("torchvision's ImageNet weights from `$TORCH_HOME`; offline without them the experiment stops"
         ' and says how to get them; `--weights FILE` or `--no-pretrained` (then every row and figure '
         'says "NOT pretrained")'),
        'this machine cannot download them',
        ('inception',)),
    Note(
        'random (not pretrained) encoder',
        '—',
        ("`--no-pretrained`: inception_v3's own random initialisation (seeded by `--seed`), its "
         'batch-norm statistics estimated on the first 256 training images, then frozen'),
        ('a fresh inception_v3 in eval mode normalises with mean 0 / variance 1, so activations '
         'explode (pooled features ~1e10, measured) and the decoder learns nothing; calibrated, the '
         'features are O(1)'),
        ('inception',)),
    Note(
        'salt-and-pepper amount',
        '"a different random amount per image"',
        ("`skimage.util.random_noise(mode='s&p')`, amount ~ U(0.02, 0.3) per image (applied per colour"
         ' value); training noise redrawn each epoch from (seed, epoch, index); test noise fixed (seed'
         ' 0)'),
        'the report gives no range; 0.3 is heavy, matching "heavy noise"',
        ('denoise',)),
    Note(
        'denoising table',
        'cells empty',
        'our numbers, the report\'s columns say "not reported"',
        'honest',
        ('denoise',)),
    Note(
        'Fruits-360 classes',
        '30 of the 131 classes, which not stated',
        ('`--classes N` picks N classes by a fixed rule (see `choose_classes` in '
         '`torchbearer_colorize/data/fruits360.py`), or `--classes "Apple Braeburn,Banana"` names them'),
        'deterministic and spread over the set',
        ('vae_fruits',)),
    Note(
        'built-in fruit set',
        '—',
        ('30 rendered fruit-like classes rotating through 360 degrees on white at 100 x 100, 150 '
         'training and 50 test images per class, test images from other instances; labelled "built-in '
         'fruit set, not Fruits-360"'),
        'Fruits-360 cannot be downloaded here; the renderer mimics how it was photographed',
        ('vae_fruits',)),
    Note(
        'VAE decode path',
        '`forward` returns only `mu, logvar`; decoding not shown',
        ('`decode(z) = decoder(relu(upsample(z)).reshape(-1, 64, 25, 25))`, no output activation (the '
         'printed decoder ends in a transposed convolution)'),
        ("the layers the report prints; ReLU after `upsample` mirrors the encoder's ReLU before the "
         'linear layers'),
        ('vae_fruits',)),
    Note(
        'VAE forward',
        'returns a tuple',
        ('stores `mu`, `logvar` under torchbearer state keys and returns the reconstruction; `.view` '
         'replaced by `flatten`'),
        ('torchbearer would splat a tuple into the criterion (notes, pitfall 4); `.view` fails on '
         'channels-last tensors (pitfall 9)'),
        ('vae_fruits',)),
    Note(
        'VAE loss',
        'not stated; printed losses ~17,000-19,000',
        ('MSE summed over the batch + beta x KL summed over the batch (closed-form Gaussian KL, added '
         "by the `KLDivergence` callback in training and validation); table losses are torchbearer's "
         "mean over the epoch's batches"),
        "a per-pixel mean would print ~0.02; summed MSE over a batch of 32 reproduces the report's scale",
        ('vae_fruits',)),
    Note(
        'beta, epochs, batch size of the VAE',
        'not stated (lr 0.0005 given)',
        'beta 1 (`--beta`), 10 epochs, batch 32',
        "batch 32 is the colorization data's; beta 1 is the plain VAE",
        ('vae_fruits',)),
    Note(
        'VAE figures',
        ('histograms of mu and logvar; ten fruits decoded from samples "of those distributions"; noise'
         ' added to latent codes'),
        ('histograms per latent dimension over the test set; 10 decodings of z ~ N(mean of mu, sd of '
         'mu) per dimension; test codes with noise from q(z\\|x) added; plus a traversal of each '
         'dimension'),
        "the report's description, made precise",
        ('vae_fruits',)),
    Note(
        'colour metrics',
        'MSE only; says MSE paints everything brown/sepia',
        ('every colorization table adds PSNR and SSIM (`skimage.metrics`, `data_range=1`, SSIM over the '
         'colour channels with its default 7 x 7 window) and Hasler-Suesstrunk colourfulness with signed '
         'opponents on 0-255 RGB, each computed per test image and averaged; predictions clipped to [0, 1]'),
        'turns "everything brown" into a number: a sepia model scores far below the ground truth',
        COLORIZATION),
    Note(
        'gray-copy baseline',
        '—',
        ('a table row for the gray input copied to all three channels (the MSE of learning no colour at '
         'all); the denoising table\'s baseline is the noisy input itself; each table says whether a model '
         'beats it on test MSE'),
        'the bar a colour model must clear; on real paintings it is already low',
        PAINTINGS),
    Note(
        'conclusions',
        'stated in prose',
        ('`experiments.report` checks each against our numbers and prints the verdict; differences '
         'within one standard deviation over seeds are called "within noise"; "at or below" allows 5 %'),
        'several of the report\'s conclusions rest on differences of a few ten-thousandths',
        EVERY),
    Note(
        'inception weights in the whole report',
        '—',
        ('`experiments.report` uses the ImageNet weights when torchvision has them cached or can download '
         'them, else falls back to `--no-pretrained` by itself, labelled "NOT pretrained"; the verdict '
         'on the frozen encoder then says "not comparable"'),
        'the report command must finish on an offline machine',
        ("inception",)),
    Note(
        'classification approach',
        'a 3-way red/green/blue classification whose probability scales the pixel; not implemented',
        ('Zhang et al. 2016 as the brief restates it: per-pixel softmax over quantized Lab ab bins, '
         'soft-encoded targets, class rebalancing, annealed-mean decoding '
         '(`torchbearer_colorize/color_classes.py`)'),
        ("the report's account is a garbled summary of that paper; the paper's method is the one that "
         'can be built and compared'),
        ("color_classes",)),
    Note(
        'Lab conversion',
        'paper: CIE Lab',
        ("D65 / 2-degree observer, sRGB, with skimage's constants and formulas re-done in torch (tests"
         ' check them against `skimage.color.rgb2lab` / `lab2rgb` to 1e-9)'),
        ("the targets and the decoding run batched on the training device; skimage's conversion is the"
         " project's reference"),
        ("color_classes",)),
    Note(
        'ab gamut',
        'paper: grid step 10, "the Q = 313 values which are in-gamut"',
        ('the grid points of step 10 whose cell (the ab values that round to them) holds the ab of '
         'some sRGB colour: a 65 x 65 x 65 grid of 8-bit colours (0, 4, ..., 252, 255 per channel) '
         'converted to Lab: Q = **261**, a ranging -90..100, b -110..90; the same 261 bins as all '
         '256^3 8-bit colours (checked once)'),
        ("the paper's 313 could not be reproduced from the sRGB gamut at step 10 (a 128^3 sample of "
         'the continuous cube gives 262; bins whose centre itself is an sRGB colour at some L: 229); '
         '261 is exactly the set of bins our uint8 images can hit'),
        ("color_classes",)),
    Note(
        "bin centres at the gamut's edge",
        '—',
        ('32 of the 261 bins are edge cells that colours reach only off-centre: their centre is no '
         'sRGB colour at any L; they are kept (every bin centre that is a colour is a bin, and every '
         "bin's cell holds a colour, tested)"),
        ('dropping them would leave real target colours (e.g. saturated blue, yellow) without a bin of'
         ' their own; decoded colours are clipped to [0, 1] by `lab_to_rgb`, as skimage does'),
        ("color_classes",)),
    Note(
        'model input',
        'paper: L (centred, L - 50)',
        'the gray image in [0, 1] from `rgb2gray`, the same input as every other colorizer here',
        'a fair comparison with the MSE model; L is a monotone function of it',
        ("color_classes",)),
    Note(
        'lightness of the output',
        "paper: the input's L",
        ('L of the gray image read as the RGB colour (g, g, g), i.e. L = 116 f(linear(g)) - 16; ab = 0'
         ' gives back exactly the gray copy'),
        ('the model sees only the gray image; `rgb2gray` mixes gamma-encoded channels, so this L '
         "differs from the colour image's own L by 1.4 on average (8 test images): decoding the *true*"
         " ab with it already costs MSE ~0.001 (the table's ceiling row)"),
        ("color_classes",)),
    Note(
        'prediction resolution',
        "paper: a quarter of the input's resolution, upsampled",
        ('64 x 64 logits for 256 x 256 inputs; the annealed-mean ab upsampled bilinearly '
         '(`align_corners=False`) to 256 x 256'),
        'the brief; bilinear is the simplest smooth upsampling of ab',
        ("color_classes",)),
    Note(
        '64 x 64 targets',
        "paper's released code: the ab of every 4th pixel (stride-4 subsampling)",
        ('the ab of every 4th pixel starting at pixel 2 (`[2::4]`), i.e. the pixel nearest each 4 x 4 '
         "block's centre, which is where a bilinear (`align_corners=False`) upsampling puts each 64 x "
         '64 value; stored float16, N x 2 x 64 x 64 (16 KiB per image)'),
        ('subsampling keeps real pixel colours (averaging ab across edges would desaturate targets); '
         'the offset aligns targets with the upsampled predictions'),
        ("color_classes",)),
    Note(
        'soft encoding',
        'paper: the 5 nearest bins, Gaussian sigma 5',
        ('the same, computed in the criterion from the ab targets on the fly (`soft_encode`: Gaussian '
         'of the distance, relative to the nearest bin to avoid underflow, normalised to sum 1)'),
        'storing 261-way encodings would take 16x the memory of the ab targets',
        ("color_classes",)),
    Note(
        'empirical distribution p',
        'paper: the colour distribution of ImageNet training images, smoothed with a Gaussian (sigma 5)',
        ('the nearest-bin histogram of every 64 x 64 training target pixel, smoothed with a Gaussian '
         "of sigma 5 over the bin centres (each bin's mass spread over in-gamut bins only, so p still "
         'sums to 1)'),
        "the weights must reflect this data set; the brief asks for the paper's smoothing",
        ("color_classes",)),
    Note(
        'rebalancing weights',
        ('paper: w proportional to ((1 - lambda) p + lambda / Q)^-1, lambda 0.5, E_p[w] = 1; the '
         "weight of each pixel's nearest bin"),
        'the same: `rebalancing_weights` scales w so that sum_q p_q w_q = 1 (p the smoothed distribution)',
        "the paper's normalisation",
        ("color_classes",)),
    Note(
        'loss reduction',
        'paper: summed over pixels',
        'the weighted cross-entropy averaged over target pixels and images (nats per 64 x 64 pixel)',
        ('only a scale, which Adam nearly ignores; a mean keeps the number readable and comparable '
         'across batch sizes'),
        ("color_classes",)),
    Note(
        'gray images in the loss',
        '— (the released code zeroes the loss of images without colour)',
        'not done: every pixel counts',
        "the built-in sample set has colour everywhere; not part of the paper's description",
        ("color_classes",)),
    Note(
        'decoding',
        'paper: annealed mean, T = 0.38',
        ('softmax(log p / T) with T = 0.38, then the mean of the bin centres (`annealed_mean`); '
         "`predict_rgb` joins it with the input's L and converts to RGB clipped to [0, 1]"),
        "the paper's choice; T = 1 would be the (desaturated) mean, T -> 0 the (noisy) mode",
        ("color_classes",)),
    Note(
        'architecture',
        'paper: a VGG-style network of 8 blocks with batch norm, dilated convolutions',
        ("the small colorizer's blocks: `down(1, 32)`, `down(32, 32)`, `down(32, 64)` (4 x 4 "
         'convolutions, stride 2, ReLU; 32 x 32 x 64), `up(64, 32)` (4 x 4 transposed convolution, '
         'stride 2, ReLU; 64 x 64 x 32), a 1 x 1 convolution to 261 logits; model name `small_classes`'),
        ('isolates the loss and decoding: the comparison with the small MSE colorizer changes only '
         'what it is trained to output'),
        ("color_classes",)),
    Note(
        'training settings',
        'paper: Adam with a much smaller learning rate, on ImageNet',
        ('Adam, lr 0.001, batch 32, 5 epochs, seed 0: the settings of the lr sweep\'s "lr 0.001" run, '
         'the MSE row of the table (reused from the run store when present)'),
        'a fair comparison with the MSE model',
        ("color_classes",)),
    Note(
        'comparison metrics',
        '—',
        ('test MSE, PSNR, SSIM and colourfulness of the 256 x 256 RGB predictions (`metrics.evaluate`:'
         ' `predict_rgb` for the classification model, the forward for the MSE model), a gray-copy '
         'baseline row, a ceiling row (the true 64 x 64 ab decoded like the predictions) and the '
         "ground truth's colourfulness; each model's own loss is also shown, not comparable between "
         'them'),
        ("the paper's claim is more vivid colour at some cost in per-pixel error: colourfulness shows "
         'the first, MSE / PSNR / SSIM the second'),
        ("color_classes",)),
)


def notes_for(experiment):
    """The notes that concern one experiment."""
    return [note for note in NOTES if experiment in note.experiments]


def to_markdown(notes=NOTES):
    """The notes as one Markdown table."""
    lines = ["| topic | the report says | the code does | why |", "|---|---|---|---|"]
    lines += [f"| {n.topic} | {n.report} | {n.code} | {n.why} |" for n in notes]
    return "\n".join(lines) + "\n"


HEADER = """# Fidelity notes

Every place where the report (`../shared/REPORT.md`, the English restatement of the original
Persian homework report) is silent, ambiguous or wrong, and what this package does instead.
Generated from `torchbearer_colorize/fidelity.py`, the one source of truth, by
`python -m torchbearer_colorize.fidelity`; `figures/REPORT.md` embeds the same table.

"""


def document():
    return HEADER + to_markdown()


def main():
    from pathlib import Path

    from ..atomic import write_text
    path = Path(__file__).resolve().parents[2] / "docs" / "fidelity.md"
    write_text(path, document())
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
