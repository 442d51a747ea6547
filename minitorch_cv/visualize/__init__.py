"""minitorch_cv.visualize: looking inside a trained network (ZFNet and its relatives).

    from minitorch_cv import visualize as V
    V.save_png("filters.png", V.filter_grid(model.features[0].weight), scale=4)
    V.save_png("maps.png", V.feature_maps(model, image, "features.2"))
    projection = V.deconvnet(model, image, "features.5", channel=7)     # x's shape
    V.save_png("projection.png", V.to_image(projection, "symmetric"))
    top = V.top_activations(model, test_set, "features.5", 7, transform=normalize)
    V.save_png("top9.png", top.figure(), scale=3)
    occlusion = V.occlusion_map(model, image, target=3, patch=8, stride=2)

Files: recording.py (the forward pass through hooks; what makes a network
"Sequential-style"), projection.py (deconvnet, guided_backprop, saliency: one walk down
the network, three rules at the ReLU), top_activations.py (ZFNet's figure 2 and
receptive fields), occlusion.py (figure 7), images.py (display scaling, grids, filters,
feature maps, PNG files through Pillow). Everything is built on the public API:
modules, forward hooks and nn.functional.
"""
from .images import feature_maps, filter_grid, make_grid, save_png, to_image
from .occlusion import OcclusionMap, occlusion_map
from .projection import deconvnet, guided_backprop, saliency
from .recording import NotInvertibleError
from .top_activations import TopActivations, receptive_field, top_activations

__all__ = [
    "NotInvertibleError",
    "OcclusionMap",
    "TopActivations",
    "deconvnet",
    "feature_maps",
    "filter_grid",
    "guided_backprop",
    "make_grid",
    "occlusion_map",
    "receptive_field",
    "saliency",
    "save_png",
    "to_image",
    "top_activations",
]
