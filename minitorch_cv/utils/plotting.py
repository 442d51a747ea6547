"""Loss and accuracy curves of a training run as a PNG (matplotlib, an optional extra:
``pip install -e ".[plot]"``).

``plot_curves(records, path)`` takes the per-epoch records of ``metrics.json`` (dicts
with epoch, train_loss, test_loss, train_acc, test_acc) and draws two panels: loss and
accuracy against the epoch, train and test in each (``splits`` names other splits:
("train", "val") reads val_loss and val_acc). It returns False, drawing nothing,
when matplotlib cannot be imported.

It uses matplotlib's object-oriented API with the Agg canvas (no ``pyplot``), so it
opens no window, needs no display and changes no global matplotlib state.
"""


def matplotlib_available():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plot_curves(records, path, title=None, splits=("train", "test")):
    """Write the curves of ``records`` to ``path``; True when written, False when
    matplotlib is not installed."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return False
    epochs = [record["epoch"] for record in records]
    figure = Figure(figsize=(10, 4))
    FigureCanvasAgg(figure)
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    for split in splits:
        loss_axes.plot(epochs, [r[f"{split}_loss"] for r in records], marker="o", label=split)
        accuracy_axes.plot(epochs, [100 * r[f"{split}_acc"] for r in records], marker="o",
                           label=split)
    loss_axes.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    accuracy_axes.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for axes in (loss_axes, accuracy_axes):
        axes.grid(alpha=0.3)
        axes.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return True
