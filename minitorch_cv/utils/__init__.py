"""Pieces that training scripts share (so that no example carries its own copy).

progress.py   ProgressBar: a tqdm-like bar (rate, ETA, lazy postfix) for any loop
metrics.py    RunningMetrics (loss/accuracy sums kept on the device), SegmentationMetrics
              (loss and a pixel confusion matrix), write_json_atomic
training.py   train_one_epoch and evaluate: the loops (classification, segmentation)
interrupt.py  StopOnInterrupt: Ctrl-C stops a loop between steps, not in the middle
checkpoint.py training_state / restore_training_state: what a resumable checkpoint holds
run.py        Run: a training run on disk (epochs, metrics.json, checkpoints, Ctrl-C,
              --resume checked, divergence, the output-folder guard); the scripts' main
arguments.py  the training scripts' shared options, each checked when parsed
plotting.py   plot_curves: loss and accuracy curves as a PNG (matplotlib, optional)
data.py       PyTorch's import path minitorch_cv.utils.data (DataLoader, Dataset, samplers)
figures.py    prediction_grid: image | ground truth | prediction, label maps in colour
"""
from . import data
from .checkpoint import restore_training_state, training_state
from .figures import prediction_grid
from .interrupt import StopOnInterrupt
from .metrics import RunningMetrics, SegmentationMetrics, write_json_atomic
from .plotting import matplotlib_available, plot_curves
from .progress import ProgressBar, format_duration
from .training import evaluate, train_one_epoch

__all__ = [
    "ProgressBar",
    "RunningMetrics",
    "SegmentationMetrics",
    "StopOnInterrupt",
    "evaluate",
    "format_duration",
    "matplotlib_available",
    "plot_curves",
    "prediction_grid",
    "restore_training_state",
    "train_one_epoch",
    "training_state",
    "write_json_atomic",
]
