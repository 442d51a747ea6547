"""LeNet-5: LeCun, Bottou, Bengio & Haffner 1998, "Gradient-based learning applied to
document recognition", section II.B.

Convolutions with shared weights find the same feature anywhere in the image, and
subsampling layers halve the resolution so that the exact position of a feature matters
less; alternating the two builds invariance to small shifts and distortions, and the
whole network, from pixels to classes, is trained by back-propagation.

lenet5 (32x32 grey input, the paper's layers; 60,000 trainable parameters):

    layer  what                                                   output      parameters
    C1     conv 5x5, 6 maps                                       6 x 28 x 28        156
    S2     subsampling: 2x2 sum x coefficient + bias, per map     6 x 14 x 14         12
    C3     conv 5x5, 16 maps, each on the S2 maps of table I      16 x 10 x 10     1,516
    S4     subsampling                                            16 x 5 x 5          32
    C5     conv 5x5, 120 maps (fully connected to S4)             120 x 1 x 1     48,120
    F6     fully connected, 84 units                              84              10,164
    output 10 Euclidean RBF units with fixed codes                10                   0

Every layer up to F6 is followed by the squashing function f(a) = A tanh(S a) with
A = 1.7159 and S = 2/3 (so that f(1) = 1 and f(-1) = -1, where its second derivative is
largest, and the gain stays near 1). Table I connects C3's maps 0-5 to three contiguous
S2 maps, 6-11 to four contiguous ones, 12-14 to four non-contiguous ones and 15 to all
six: 60 connections instead of 96, which breaks the symmetry between maps and saves
weights. The output unit i computes the penalty y_i = sum_j (x_j - w_ij)^2, the squared
distance between F6's 84 values and the code of class i: a 7x12 bitmap of a stylized
digit with -1 for white and +1 for black (drawn here in ``DIGIT_CODES``), fixed, not
trained (a buffer). Weights and biases start uniform in +-2.4 / F_i, F_i the unit's
fan-in (appendix C).

The model returns the scores -y (the larger, the more likely), so that argmax predicts
and cross-entropy trains it. Loss: train with ``lenet5_loss``, the paper's MAP criterion
(eq. 9), E = y_D + log(e^-j + sum_i e^-y_i) for the correct class D; with j = None (the
default, j -> infinity) it is exactly ``F.cross_entropy(scores, target)``. Why not the
simpler mean of y_D (eq. 8)? It only pulls F6 towards the right code and never pushes it
away from the wrong ones; the second term does that (the competition of the classes),
and with trainable codes eq. 8 even has the trivial solution of all codes equal.

``lenet5(modern=True)`` is the version people write today, for comparison: ReLU, 2x2 max
pooling, a full C3 (all 6 maps to each of the 16), and a linear output layer (61,706
parameters, PyTorch's default initialization). MNIST's 28x28 digits are padded to 32x32
(the paper's input), e.g. with ``transforms.Pad(2)``.
"""
import math

from .. import creation, dtypes, nn
from ..nn import functional as F
from ..ops import cat
from .registry import register_model

# Table I of the paper: the S2 maps that each of C3's 16 maps sees.
C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)

# The output codes: stylized digits on a 7-wide, 12-high bitmap ('#' = +1, '.' = -1).
DIGIT_BITMAPS = {
    0: [".......", "..###..", ".#...#.", "#.....#", "#.....#", "#.....#",
        "#.....#", "#.....#", "#.....#", ".#...#.", "..###..", "......."],
    1: [".......", "...#...", "..##...", ".#.#...", "...#...", "...#...",
        "...#...", "...#...", "...#...", "...#...", ".#####.", "......."],
    2: [".......", ".#####.", "#.....#", "......#", ".....#.", "....#..",
        "...#...", "..#....", ".#.....", "#......", "#######", "......."],
    3: [".......", "#######", ".....#.", "....#..", "...#...", "..###..",
        "......#", "......#", "......#", "#.....#", ".#####.", "......."],
    4: [".......", "....#..", "...##..", "..#.#..", ".#..#..", "#...#..",
        "#######", "....#..", "....#..", "....#..", "....#..", "......."],
    5: [".......", "#######", "#......", "#......", "######.", "......#",
        "......#", "......#", "......#", "#.....#", ".#####.", "......."],
    6: [".......", "..####.", ".#.....", "#......", "#......", "######.",
        "#.....#", "#.....#", "#.....#", "#.....#", ".#####.", "......."],
    7: [".......", "#######", "......#", ".....#.", "....#..", "...#...",
        "...#...", "..#....", "..#....", "..#....", "..#....", "......."],
    8: [".......", ".#####.", "#.....#", "#.....#", "#.....#", ".#####.",
        "#.....#", "#.....#", "#.....#", "#.....#", ".#####.", "......."],
    9: [".......", ".#####.", "#.....#", "#.....#", "#.....#", "#.....#",
        ".######", "......#", "......#", ".....#.", ".####..", "......."],
}


def digit_codes():
    """(10, 84) nested list of +-1: row i is digit i's bitmap read row by row."""
    return [[1.0 if pixel == "#" else -1.0 for row in DIGIT_BITMAPS[digit] for pixel in row]
            for digit in range(10)]


def _lecun_uniform_(tensor, fan_in):
    """U(-2.4 / fan_in, 2.4 / fan_in), appendix C of the paper."""
    bound = 2.4 / fan_in
    return nn.init.uniform_(tensor, -bound, bound)


class ScaledTanh(nn.Module):
    """The paper's squashing function f(a) = 1.7159 tanh(2a / 3)."""

    def forward(self, input):  # noqa: A002 - PyTorch's argument name
        return F.tanh(input * (2.0 / 3.0)) * 1.7159


class Subsampling(nn.Module):
    """S2 and S4: out[n, c] = weight[c] * (sum of x[n, c] over each 2x2 block) + bias[c],
    non-overlapping 2x2 blocks, one trainable coefficient and bias per map (before the
    squashing function, which the network applies)."""

    def __init__(self, channels):
        super().__init__()
        self.channels = channels
        self.weight = nn.Parameter(creation.empty(channels))
        self.bias = nn.Parameter(creation.empty(channels))
        _lecun_uniform_(self.weight, 4)
        _lecun_uniform_(self.bias, 4)

    def forward(self, input):  # noqa: A002
        summed = F.avg_pool2d(input, 2, divisor_override=1)  # divisor 1: the sum of 4
        return summed * self.weight.reshape(1, -1, 1, 1) + self.bias.reshape(1, -1, 1, 1)

    def extra_repr(self):
        return f"{self.channels}"


class ConnectionTableConv2d(nn.Module):
    """A convolution in which output map k sees only the input maps ``table[k]`` (LeNet's
    C3). Output maps whose tables have the same length share one grouped convolution:
    their input maps are gathered side by side (x[:, [0, 1, 2, 1, 2, 3, ...]]) and
    convolved with groups = the number of such maps. Only the connections of the table
    have weights: ``weight<n>`` holds those of the maps that see n inputs, (maps, n, KH,
    KW); ``bias`` one per output map."""

    def __init__(self, table, kernel_size):
        super().__init__()
        self.table = tuple(tuple(inputs) for inputs in table)
        self.kernel_size = kernel_size
        self.sizes = sorted({len(inputs) for inputs in self.table})
        order = []
        for size in self.sizes:
            maps = [k for k, inputs in enumerate(self.table) if len(inputs) == size]
            order += maps
            weight = nn.Parameter(creation.empty(len(maps), size, kernel_size, kernel_size))
            _lecun_uniform_(weight, size * kernel_size * kernel_size)
            setattr(self, f"weight{size}", weight)
        # position of output map k among the concatenated group outputs
        self.position = [order.index(k) for k in range(len(self.table))]
        # each map's bias uniform in its own +-2.4 / F_i: U(-1, 1) scaled map by map
        self.bias = nn.Parameter(creation.empty(len(self.table)))
        nn.init.uniform_(self.bias, -1.0, 1.0)
        bounds = [2.4 / (len(inputs) * kernel_size * kernel_size) for inputs in self.table]
        self.bias.array[...] *= creation.tensor(bounds, dtype=self.bias.dtype).array

    def forward(self, input):  # noqa: A002
        outputs = []
        for size in self.sizes:
            maps = [inputs for inputs in self.table if len(inputs) == size]
            gathered = input[:, [c for inputs in maps for c in inputs]]
            outputs.append(F.conv2d(gathered, getattr(self, f"weight{size}"), groups=len(maps)))
        out = cat(outputs, 1)
        if self.position != list(range(len(self.table))):
            out = out[:, self.position]
        return out + self.bias.reshape(1, -1, 1, 1)

    def extra_repr(self):
        connections = sum(len(inputs) for inputs in self.table)
        return f"{len(self.table)} maps, {connections} connections, kernel_size={self.kernel_size}"


class EuclideanRBF(nn.Module):
    """y[n, i] = sum_j (x[n, j] - codes[i, j])^2: the squared distance of the input to
    each class's code. ``codes`` (classes, features) is a buffer: fixed, not trained."""

    def __init__(self, codes):
        super().__init__()
        self.register_buffer("codes", creation.tensor(codes, dtype=dtypes.DEFAULT_FLOAT))

    def forward(self, input):  # noqa: A002
        difference = input.unsqueeze(1) - self.codes.unsqueeze(0)  # (N, classes, features)
        return (difference * difference).sum(2)

    def extra_repr(self):
        return f"classes={self.codes.shape[0]}, features={self.codes.shape[1]}"


class LeNet5(nn.Module):
    """LeCun et al.'s LeNet-5, or with ``modern=True`` today's version (module docstring)."""

    def __init__(self, num_classes=10, modern=False):
        super().__init__()
        self.modern = modern
        if modern:
            self.c1 = nn.Conv2d(1, 6, 5)
            self.s2 = nn.MaxPool2d(2)
            self.c3 = nn.Conv2d(6, 16, 5)
            self.s4 = nn.MaxPool2d(2)
            self.c5 = nn.Conv2d(16, 120, 5)
            self.f6 = nn.Linear(120, 84)
            self.output = nn.Linear(84, num_classes)
            self.activation = nn.ReLU()
            return
        if num_classes != 10:
            raise ValueError(
                f"num_classes: the paper's output codes are the 10 digits, got {num_classes} "
                "(lenet5(modern=True) has a linear output for any number of classes)"
            )
        self.c1 = nn.Conv2d(1, 6, 5)
        self.s2 = Subsampling(6)
        self.c3 = ConnectionTableConv2d(C3_TABLE, 5)
        self.s4 = Subsampling(16)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.output = EuclideanRBF(digit_codes())
        self.activation = ScaledTanh()
        for layer in (self.c1, self.c5, self.f6):
            fan_in = math.prod(layer.weight.shape[1:])
            _lecun_uniform_(layer.weight, fan_in)
            _lecun_uniform_(layer.bias, fan_in)

    def forward(self, x):
        f = self.activation
        if self.modern:  # the pools take no squashing of their own
            x = self.s2(f(self.c1(x)))
            x = self.s4(f(self.c3(x)))
        else:
            x = f(self.s2(f(self.c1(x))))
            x = f(self.s4(f(self.c3(x))))
        x = f(self.c5(x)).flatten(1)
        x = f(self.f6(x))
        if self.modern:
            return self.output(x)
        return -self.output(x)  # scores: minus the RBF penalties


def lenet5_loss(scores, target, j=None):
    """The paper's MAP criterion (eq. 9) on the scores -y of ``lenet5``:

        E = mean over the batch of  y_D + log(e^-j + sum_i e^-y_i)

    y_D the penalty of the correct class. ``j=None`` (j -> infinity) drops the constant
    "rubbish class" term and is exactly ``F.cross_entropy(scores, target)``."""
    if j is None:
        return F.cross_entropy(scores, target)
    rubbish = creation.full((scores.shape[0], 1), -float(j), dtype=scores.dtype, device=scores.device)
    log_total = cat([rubbish, scores], 1).logsumexp(1)
    correct = scores[creation.arange(scores.shape[0], device=scores.device), target]
    return (log_total - correct).mean()


@register_model
def lenet5(num_classes=10, modern=False):
    """LeNet-5 (LeCun et al. 1998): 60,000 parameters; ``modern=True``: 61,706."""
    return LeNet5(num_classes, modern)
