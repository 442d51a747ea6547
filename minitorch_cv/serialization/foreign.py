"""The readers of formats made elsewhere, registered with ``readers`` after the native
one: PyTorch checkpoints (``torch.save``'s ZIP archive, recognised by its
``<name>/data.pkl`` member, and its legacy pickle sequence, by its magic number) and
safetensors files (an 8-byte header length followed by ``{``). The parsing lives in
``minitorch_cv/formats``; this file only connects it to ``load``: each tensor goes
where ``map_location`` says, its saved location ("cpu", "cuda:0") standing for the
saved device.

Neither reader ever unpickles an object of a class: ``weights_only=False`` changes
nothing for them (there is nothing more that they could safely read).
"""
from .. import devices
from ..formats import safetensors, torch_checkpoint
from ..tensor import Tensor
from .readers import is_zip, register_reader, zip_names


def _tensor_maker(placement):
    def make_tensor(array, location, requires_grad):
        saved = devices.CPU if location == "cpu" else devices.GPU
        tensor = Tensor(placement.place(array, saved))
        if requires_grad and tensor.is_floating_point():
            tensor.requires_grad = True
        return tensor
    return make_tensor


class TorchCheckpointReader:
    name = "PyTorch checkpoint"

    def claims(self, source):
        if torch_checkpoint.is_legacy_checkpoint(source.head):
            return True
        if not is_zip(source):
            return False
        names = zip_names(source)
        return names is not None and torch_checkpoint.is_zip_checkpoint(names)

    def read(self, source, placement, weights_only=True):
        return torch_checkpoint.read(source.file, source.name, _tensor_maker(placement))


class SafetensorsReader:
    name = "safetensors"

    def claims(self, source):
        return safetensors.looks_like_safetensors(source.head)

    def read(self, source, placement, weights_only=True):
        return safetensors.read(source.file, source.name, _tensor_maker(placement))


register_reader(TorchCheckpointReader())
register_reader(SafetensorsReader())
