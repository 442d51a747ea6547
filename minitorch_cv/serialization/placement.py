"""``map_location``: on which device each loaded tensor's array is placed.

Every reader calls ``placement.place(array, saved)`` with a tensor's array (NumPy, as read
from the file) and the device it was saved from ("cpu" or "gpu"), and wraps the result.
The forms of ``map_location``, as PyTorch's:

    None                     the saved device (a GPU tensor without a GPU is an error
                             that says to pass map_location="cpu")
    "cpu", "cuda", mt.device every tensor on that device
    {"cuda:0": "cpu"}        saved device -> device; devices not named stay where saved
    f(storage, location)     called per tensor with the tensor on the CPU and its saved
                             location as PyTorch spells it ("cpu" or "cuda:0"); it
                             returns a tensor or array (placed where it is) or None
                             (the saved device)
"""
from .. import devices
from ..tensor import Tensor

# PyTorch's location strings, for map_location callables.
_LOCATION = {devices.CPU: "cpu", devices.GPU: "cuda:0"}


class Placement:
    def __init__(self, map_location=None):
        self.map_location = map_location
        self._function = map_location if callable(map_location) else None
        if map_location is None or self._function is not None:
            self._mapping = None
        elif isinstance(map_location, dict):
            self._mapping = {
                devices.normalize(saved): devices.normalize(target)
                for saved, target in map_location.items()
            }
        elif isinstance(map_location, str):
            self._mapping = {saved: devices.normalize(map_location) for saved in _LOCATION}
        else:
            raise TypeError(
                "map_location: expected None, a device, a dict {saved device: device} or "
                f"a callable f(storage, location), got {type(map_location).__name__}"
            )

    def target(self, saved):
        """The device a tensor saved on ``saved`` goes to (mapping forms only)."""
        saved = devices.normalize(saved)
        if self._mapping is None:
            return saved
        return self._mapping.get(saved, saved)

    def place(self, array, saved):
        """``array`` (NumPy) moved to where a tensor saved on ``saved`` belongs."""
        saved = devices.normalize(saved)
        if self._function is not None:
            placed = self._function(Tensor(array), _LOCATION[saved])
            if placed is not None:
                return placed.array if isinstance(placed, Tensor) else placed
        target = self.target(saved)
        if target == devices.GPU and not devices.gpu_available():
            origin = "saved on the GPU" if self.map_location is None else "mapped to the GPU"
            raise RuntimeError(
                f"load: a tensor {origin} cannot be placed there: CuPy cannot see a GPU on "
                "this machine; pass map_location='cpu' to load it on the CPU"
            )
        return devices.to_device(array, target)
